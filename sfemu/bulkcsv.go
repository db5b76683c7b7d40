package sfemu

import (
	"compress/gzip"
	"encoding/base64"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Result pages are CSV as Bulk API 2.0 writes it: a header row of the
// selected field names, every value in double quotes with quotes doubled,
// embedded newlines kept, null as "", booleans true/false, numbers as plain
// decimal text, datetimes 2024-01-02T03:04:05.000Z, dates 2024-01-02 and
// times 13:30:00.000Z, the job's delimiter and line ending.

const (
	csvDateTime = "2006-01-02T15:04:05.000Z"
	csvChunk    = 1000 // rows rendered per hold of the org's read lock
)

func (s *Server) handleBulkResults(w http.ResponseWriter, r *http.Request, c *call) {
	s.jobs.mu.Lock()
	j, ok := s.job(w, r)
	if !ok {
		s.jobs.mu.Unlock()
		return
	}
	info, rows, fields, o := j.info, j.rows, j.fields, j.o
	delim, crlf := j.delim, j.crlf
	s.jobs.mu.Unlock()

	offset, size, ok := s.resultSpan(w, r, c.version, info, len(rows))
	if !ok {
		return
	}
	end := min(offset+size, len(rows))
	next := "null"
	if end < len(rows) {
		next = makeLocator(end)
	}

	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=UTF-8")
	h.Set("Sforce-Locator", next)
	h.Set("Sforce-NumberOfRecords", strconv.Itoa(end-offset))
	var out io.Writer = w
	var zw *gzip.Writer
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		// Fast compression: the emulator's CPU is usually the client's too.
		zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		out = zw
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}

	buf, _ := s.pages.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer func() {
		if cap(*buf) <= 64<<20 {
			s.pages.Put(buf)
		}
	}()
	b := (*buf)[:0]
	for i, f := range fields {
		if i > 0 {
			b = append(b, delim)
		}
		b = appendCSVText(b, f.Name)
	}
	b = appendLineEnd(b, crlf)
	for start := offset; start < end; start += csvChunk {
		stop := min(start+csvChunk, end)
		s.mu.RLock()
		for _, row := range rows[start:stop] {
			for i, f := range fields {
				if i > 0 {
					b = append(b, delim)
				}
				b = o.appendCSVField(b, f, row)
			}
			b = appendLineEnd(b, crlf)
		}
		s.mu.RUnlock()
		if _, err := out.Write(b); err != nil {
			*buf = b
			return
		}
		b = b[:0]
	}
	if len(b) > 0 {
		_, _ = out.Write(b)
	}
	*buf = b
	if zw != nil {
		_ = zw.Close()
	}
}

// acceptsGzip reports whether the request's Accept-Encoding lists gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
				return true
			}
		}
	}
	return false
}

// makeLocator encodes a result offset as an opaque locator ("MTAwMDA" for
// 10000).
func makeLocator(offset int) string {
	return base64.RawStdEncoding.EncodeToString([]byte(strconv.Itoa(offset)))
}

func parseLocator(loc string) (int, bool) {
	b, err := base64.RawStdEncoding.DecodeString(loc)
	if err != nil || len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || strconv.Itoa(n) != string(b) {
		return 0, false
	}
	return n, true
}

func appendLineEnd(b []byte, crlf bool) []byte {
	if crlf {
		return append(b, '\r', '\n')
	}
	return append(b, '\n')
}

// appendCSVText appends s in double quotes, doubling the quotes inside.
func appendCSVText(b []byte, s string) []byte {
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// appendCSVField appends the CSV value of f in row; the caller holds mu for
// reading.
func (o *sobject) appendCSVField(b []byte, f *field, row int32) []byte {
	switch {
	case f.role == roleID:
		return appendCSVText(b, o.id(row))
	case f.calculated():
		return appendCSVValue(b, f.kind, o.formulaValue(f, row))
	case f.kind == vkCompound:
		return append(b, '"', '"')
	}
	c := &o.cols[f.col]
	if c.kind == vkString {
		return appendCSVText(b, c.str(row))
	}
	return appendCSVNum(b, f.kind, c.num[row])
}

// appendCSVNum appends a numeric-column value of kind k, quoted.
func appendCSVNum(b []byte, k valueKind, n int64) []byte {
	b = append(b, '"')
	if n != nullNum {
		switch k {
		case vkBool:
			b = strconv.AppendBool(b, n != 0)
		case vkInt:
			b = strconv.AppendInt(b, n, 10)
		case vkFloat:
			b = strconv.AppendFloat(b, math.Float64frombits(uint64(n)), 'f', -1, 64)
		case vkDateTime:
			b = time.UnixMilli(n).UTC().AppendFormat(b, csvDateTime)
		case vkDate:
			b = time.UnixMilli(n).UTC().AppendFormat(b, restDate)
		case vkTime:
			b = time.UnixMilli(n).UTC().AppendFormat(b, restTime)
		}
	}
	return append(b, '"')
}

// appendCSVValue appends a Go value (as object.value returns it) of kind k.
func appendCSVValue(b []byte, k valueKind, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendCSVText(b, x)
	case bool:
		return appendCSVNum(b, vkBool, boolCell(x).n)
	case int64:
		return appendCSVNum(b, vkInt, x)
	case float64:
		if k == vkInt {
			return appendCSVNum(b, vkInt, int64(x))
		}
		return appendCSVNum(b, vkFloat, int64(math.Float64bits(x)))
	case time.Time:
		return appendCSVNum(b, k, x.UnixMilli())
	}
	return append(b, '"', '"')
}

// resultSpan checks that a job's results may be read (same API version,
// job complete) and reads the page a request asks for: its first record
// (the locator; 0 without one) and its size (maxRecords, else the
// emulator's page size). It answers the request itself with the
// documented error and reports false when the request is refused.
func (s *Server) resultSpan(w http.ResponseWriter, r *http.Request, version string, info JobInfo, total int) (offset, size int, ok bool) {
	if info.APIVersion != version {
		writeError(w, http.StatusConflict, "INVALIDJOB",
			"Job "+info.ID+" was created with API version "+info.APIVersion+"; fetch its results with that version")
		return 0, 0, false
	}
	if info.State != jobComplete {
		writeError(w, http.StatusBadRequest, "JOB_NOT_COMPLETE",
			"Job "+info.ID+" is "+info.State+": can only download query results of successfully completed bulk job")
		return 0, 0, false
	}
	size = s.opts.BulkPageSize
	if v := r.URL.Query().Get("maxRecords"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "INVALIDJOB", "maxRecords must be a positive whole number, not '"+v+"'")
			return 0, 0, false
		}
		size = n
	}
	if loc := r.URL.Query().Get("locator"); loc != "" {
		n, ok := parseLocator(loc)
		if !ok || n <= 0 || n >= total {
			writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
			return 0, 0, false
		}
		offset = n
	}
	return offset, size, true
}
