package sfemu

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// FaultKind names a failure the emulator can inject.
type FaultKind string

// Fault kinds.
const (
	// FaultUnavailable answers 503 with a SERVER_UNAVAILABLE error body.
	FaultUnavailable FaultKind = "unavailable"
	// FaultHTML500 answers 502 or 503 (alternately, 502 first) with an
	// HTML body, as an edge proxy would.
	FaultHTML500 FaultKind = "html500"
	// FaultLimit answers 403 REQUEST_LIMIT_EXCEEDED.
	FaultLimit FaultKind = "limit"
	// FaultSession answers 401 INVALID_SESSION_ID (the token stays valid).
	FaultSession FaultKind = "session"
	// FaultReset serves the request, then closes the connection after
	// half of the body, whose Content-Length promised all of it.
	FaultReset FaultKind = "reset"
	// FaultSlow sleeps for the fault's Delay, then serves the request.
	FaultSlow FaultKind = "slow"
	// FaultLocator answers 400 INVALID_QUERY_LOCATOR.
	FaultLocator FaultKind = "locator"
	// FaultTimeout answers 400 QUERY_TIMEOUT.
	FaultTimeout FaultKind = "timeout"
	// FaultJobFail lets a Bulk API 2.0 query job be created, then end in
	// state Failed with the fault's Message as its errorMessage.
	FaultJobFail FaultKind = "jobfail"
	// FaultJobStuck lets a Bulk API 2.0 query job be created, then stay
	// InProgress until it is aborted.
	FaultJobStuck FaultKind = "jobstuck"
)

// Fault describes an injected failure.
type Fault struct {
	Kind FaultKind `json:"kind"`
	// Route selects requests: "token", "userinfo", "versions", "describe"
	// (one object), "sobjects" (describe global), "sobject" (one object's
	// basic information), "resources", "query" (first page of query or
	// queryAll), "querymore" (nextRecordsUrl pages), "limits", "updated",
	// "deleted", the Bulk API 2.0 query job routes "bulkcreate" (create),
	// "bulklist" (list), "bulkjob" (job info, abort, delete),
	// "bulkresults" (result pages) and "bulkresultpages" (the lists of
	// parallel results URLs), or "" for any request under
	// /services/data/vXX.X/. Job faults (jobfail, jobstuck) apply to job
	// creation only: they match "bulkcreate" or "" and no other route.
	Route string `json:"route"`
	// After lets this many matching requests through first.
	After int `json:"after"`
	// Times is how many requests fail: 0 means 1, -1 means every one
	// until ClearFaults.
	Times int `json:"times"`
	// Delay is the pause of a FaultSlow.
	Delay time.Duration `json:"delay"`
	// Message is the errorMessage of a job failed by FaultJobFail; empty
	// for a generic internal failure.
	Message string `json:"message,omitempty"`
}

func (k FaultKind) valid() bool {
	switch k {
	case FaultUnavailable, FaultHTML500, FaultLimit, FaultSession, FaultReset, FaultSlow, FaultLocator, FaultTimeout,
		FaultJobFail, FaultJobStuck:
		return true
	}
	return false
}

// jobFault reports whether k changes a query job's fate rather than the
// answer to a request.
func (k FaultKind) jobFault() bool { return k == FaultJobFail || k == FaultJobStuck }

type activeFault struct {
	Fault
	seen, fired int
}

type faultSet struct {
	mu   sync.Mutex
	list []*activeFault
	html int // html500 faults served, to alternate 502 and 503
}

// InjectFault adds a fault. Faults are checked in the order they were
// injected; the first one due fires, and a fault that has fired Times
// times is dropped. Faults of an unknown kind are ignored.
func (s *Server) InjectFault(f Fault) {
	if !f.Kind.valid() {
		s.log.Warn("unknown fault kind ignored", "kind", string(f.Kind))
		return
	}
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.list = append(s.faults.list, &activeFault{Fault: f})
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.list = nil
}

// take returns the fault that fires for a request to route, if any. api
// says whether the request is under /services/data/vXX.X/, which faults
// with an empty Route match.
func (fs *faultSet) take(route string, api bool) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.list {
		if f.Route != route && !(f.Route == "" && api) {
			continue
		}
		if f.Kind.jobFault() && route != routeBulkCreate {
			continue
		}
		f.seen++
		if f.seen <= f.After {
			continue
		}
		f.fired++
		if f.Times >= 0 && f.fired >= f.Times {
			fs.list = append(fs.list[:i:i], fs.list[i+1:]...)
		}
		return f.Fault, true
	}
	return Fault{}, false
}

// pending lists the faults not yet used up, for the admin endpoint.
func (fs *faultSet) pending() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, 0, len(fs.list))
	for _, f := range fs.list {
		out = append(out, f.Fault)
	}
	return out
}

// writeFault answers a request with an injected failure.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, f Fault) {
	s.log.Debug("fault injected", "kind", string(f.Kind), "route", f.Route, "path", r.URL.Path)
	s.setUsage(w, r)
	switch f.Kind {
	case FaultUnavailable:
		writeError(w, http.StatusServiceUnavailable, "SERVER_UNAVAILABLE", "Server is unavailable. Please try again later.")
	case FaultLimit:
		writeError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
	case FaultSession:
		writeError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
	case FaultLocator:
		writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
	case FaultTimeout:
		writeError(w, http.StatusBadRequest, "QUERY_TIMEOUT", "Your query request was running for too long.")
	case FaultHTML500:
		s.faults.mu.Lock()
		n := s.faults.html
		s.faults.html++
		s.faults.mu.Unlock()
		status := http.StatusBadGateway
		if n%2 == 1 {
			status = http.StatusServiceUnavailable
		}
		body := fmt.Sprintf("<html>\n<head><title>%d %s</title></head>\n<body>\n<center><h1>%d %s</h1></center>\n<hr><center>edge</center>\n</body>\n</html>\n",
			status, http.StatusText(status), status, http.StatusText(status))
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// sleepCtx waits for d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// recorder buffers a response so that a reset fault can send part of it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

// resetMidBody sends rec's status and headers with the full
// Content-Length, then half of the body, then closes the connection.
func resetMidBody(w http.ResponseWriter, rec *recorder) {
	body := rec.body.Bytes()
	part := body[:len(body)/2]
	promised := max(len(body), 1) // an empty body still breaks off early
	rec.header.Set("Content-Length", strconv.Itoa(promised))
	if date := w.Header().Get("Date"); date != "" {
		rec.header.Set("Date", date)
	}
	hj, ok := w.(http.Hijacker)
	if ok {
		conn, buf, err := hj.Hijack()
		if err == nil {
			writeRaw(buf.Writer, rec, part)
			_ = buf.Flush()
			_ = conn.Close()
			return
		}
	}
	// No hijacking (HTTP/2, or a recorder in tests): write the part and
	// abort the handler, which makes net/http break the connection or
	// stream.
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(part)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
}

func writeRaw(w *bufio.Writer, rec *recorder, part []byte) {
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\n", rec.status, http.StatusText(rec.status))
	keys := make([]string, 0, len(rec.header))
	for k := range rec.header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range rec.header[k] {
			fmt.Fprintf(w, "%s: %s\r\n", k, v)
		}
	}
	_, _ = w.WriteString("\r\n")
	_, _ = w.Write(part)
}
