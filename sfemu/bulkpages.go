package sfemu

import (
	"net/http"
	"net/url"
	"strconv"
)

// Parallel result pages (API 58.0 and later): GET
// jobs/query/{job}/resultPages lists up to five results URLs of a complete
// job, each a results request with its own locator, so a client can fetch
// them at once. The list is paged too: done says whether more URLs
// follow, and nextRecordUrl (null when done) gives the next list. The
// element names follow the documentation's table (resultPages, resultUrl,
// nextRecordUrl, done); third-party schemas spell them differently, so
// clients should accept either.

// resultPagesPerList is how many results URLs one list holds.
const resultPagesPerList = 5

// minResultPagesVersion is the first API version with resultPages.
const minResultPagesVersion = 58.0

type resultPageWire struct {
	ResultURL string `json:"resultUrl"`
}

type resultPagesWire struct {
	ResultPages   []resultPageWire `json:"resultPages"`
	NextRecordURL *string          `json:"nextRecordUrl"`
	Done          bool             `json:"done"`
}

// handleBulkResultPages answers GET jobs/query/{job}/resultPages with
// optional locator (where the list starts; from a previous list's
// nextRecordUrl) and maxRecords (records per results URL; the server's
// page size by default).
func (s *Server) handleBulkResultPages(w http.ResponseWriter, r *http.Request, c *call) {
	if v, err := strconv.ParseFloat(c.version, 64); err != nil || v < minResultPagesVersion {
		handleNotFound(w, r, c)
		return
	}
	s.jobs.mu.Lock()
	j, ok := s.job(w, r)
	if !ok {
		s.jobs.mu.Unlock()
		return
	}
	info, total := j.info, len(j.rows)
	s.jobs.mu.Unlock()

	offset, size, ok := s.resultSpan(w, r, c.version, info, total)
	if !ok {
		return
	}
	base := "/services/data/v" + c.version + "/jobs/query/" + info.ID
	out := resultPagesWire{ResultPages: []resultPageWire{}}
	at := offset
	for len(out.ResultPages) < resultPagesPerList && (at < total || at == 0) {
		q := url.Values{}
		q.Set("maxRecords", strconv.Itoa(size))
		if at > 0 {
			q.Set("locator", makeLocator(at))
		}
		out.ResultPages = append(out.ResultPages, resultPageWire{ResultURL: base + "/results?" + q.Encode()})
		at += size
	}
	out.Done = at >= total
	if !out.Done {
		q := url.Values{}
		q.Set("maxRecords", strconv.Itoa(size))
		q.Set("locator", makeLocator(at))
		next := base + "/resultPages?" + q.Encode()
		out.NextRecordURL = &next
	}
	writeJSON(w, http.StatusOK, out)
}
