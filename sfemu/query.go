package sfemu

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync/sfemu/soqlparse"
)

// A query is evaluated once, when its first page is asked for: the
// matching rows (versions) are collected in cursor order, sorted if the
// query's ORDER BY needs it, and kept as the cursor's snapshot. Later pages
// render from that snapshot, so records changed meanwhile neither move
// between pages nor change their values.

const maxCursors = 32 // open cursors per org; the least recently used go first

type cursor struct {
	id       string
	o        *sobject
	rows     []int32
	fields   []*field
	pageSize int
	lastUsed time.Time
}

// schemaView adapts the org to soqlparse.Schema; callers hold mu.
type schemaView struct{ s *Server }

func (v schemaView) Object(name string) (soqlparse.ObjectSchema, bool) {
	o, ok := v.s.objects[strings.ToLower(name)]
	if !ok || !o.Queryable {
		return nil, false
	}
	return objectView{o}, true
}

type objectView struct{ o *sobject }

func (v objectView) Name() string { return v.o.Name }

func (v objectView) Field(name string) (soqlparse.FieldInfo, bool) {
	f, ok := v.o.field(name)
	if !ok {
		return soqlparse.FieldInfo{}, false
	}
	return soqlparse.FieldInfo{Name: f.Name, Type: f.Type, Filterable: f.Filterable, Sortable: f.Sortable}, true
}

// recordView adapts one row to soqlparse.Record.
type recordView struct {
	o   *sobject
	row int32
}

func (r *recordView) Get(name string) any {
	i, ok := r.o.exact[name]
	if !ok {
		f, found := r.o.field(name)
		if !found {
			return nil
		}
		return r.o.value(f, r.row)
	}
	return r.o.value(r.o.fields[i], r.row)
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, c *call) {
	s.query(w, r, c, false)
}

func (s *Server) handleQueryAll(w http.ResponseWriter, r *http.Request, c *call) {
	s.query(w, r, c, true)
}

func (s *Server) query(w http.ResponseWriter, r *http.Request, c *call, all bool) {
	soql := r.URL.Query().Get("q")
	if strings.TrimSpace(soql) == "" {
		writeError(w, http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified")
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	q, err := soqlparse.Parse(soql, schemaView{s})
	if err != nil {
		var pe *soqlparse.Error
		if errors.As(err, &pe) {
			writeError(w, http.StatusBadRequest, pe.Code, pe.Message)
		} else {
			writeError(w, http.StatusBadRequest, "MALFORMED_QUERY", err.Error())
		}
		return
	}
	if q.Offset > soqlparse.MaxOffset {
		writeError(w, http.StatusBadRequest, "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
		return
	}
	o := s.objects[strings.ToLower(q.Object)]
	rows := o.match(q, all)
	if q.Offset > 0 {
		rows = rows[min(q.Offset, len(rows)):]
	}
	if q.Limit >= 0 && len(rows) > q.Limit {
		rows = rows[:q.Limit]
	}
	if q.Count {
		writeBody(w, http.StatusOK, []byte(`{"totalSize":`+strconv.Itoa(len(rows))+`,"done":true,"records":[]}`))
		return
	}
	cur := &cursor{o: o, rows: rows, pageSize: s.pageSize(r)}
	for _, name := range q.Fields {
		f, _ := o.field(name)
		cur.fields = append(cur.fields, f)
	}
	if len(rows) > cur.pageSize {
		s.openCursor(cur)
	}
	s.writePage(w, cur, 0, c.version)
}

// match returns the rows of current records matching q, in q's order (or
// cursor order without ORDER BY). Soft-deleted records count only for
// queryAll.
func (o *sobject) match(q *soqlparse.Query, all bool) []int32 {
	isDel := o.roleField(roleIsDeleted)
	view := &recordView{o: o}
	var rows []int32
	for _, row := range o.candidates(q) {
		if !o.current(row) || (!all && o.boolAt(isDel, row)) {
			continue
		}
		view.row = row
		if q.Match(view) {
			rows = append(rows, row)
		}
	}
	if q.Ordered() {
		a, b := &recordView{o: o}, &recordView{o: o}
		less := func(x, y int32) bool {
			a.row, b.row = x, y
			return q.Less(a, b)
		}
		sorted := true
		for i := 1; i < len(rows); i++ {
			if less(rows[i], rows[i-1]) {
				sorted = false
				break
			}
		}
		if !sorted {
			slices.SortStableFunc(rows, func(x, y int32) int {
				switch {
				case less(x, y):
					return -1
				case less(y, x):
					return 1
				}
				return 0
			})
		}
	}
	return rows
}

// candidates returns the part of o.order (every row, in cursor order) that
// can hold rows matching q: with bounds on the cursor field in q's WHERE
// clause, found by binary search, as Salesforce finds a SystemModstamp
// window through its index, so that a window costs O(log n + k) rather
// than a scan. The bounds are widened to whole milliseconds, the unit rows
// store; Match decides every candidate.
func (o *sobject) candidates(q *soqlparse.Query) []int32 {
	f := o.cursorField()
	if f == nil || f.col != o.orderCol {
		return o.order
	}
	b, ok := q.DateTimeBounds(f.Name)
	if !ok {
		return o.order
	}
	col := o.cols[o.orderCol].num
	lo, hi := 0, len(o.order)
	if !b.From.IsZero() {
		from := b.From.UnixMilli()
		lo = sort.Search(len(o.order), func(i int) bool { return col[o.order[i]] >= from })
	}
	if !b.To.IsZero() {
		to := b.To.UnixMilli()
		if b.To.After(time.UnixMilli(to)) {
			to++
		}
		hi = sort.Search(len(o.order), func(i int) bool { return col[o.order[i]] > to })
	}
	if hi < lo {
		return nil
	}
	return o.order[lo:hi]
}

// pageSize reads Sforce-Query-Options: batchSize=N, clamped to
// 200..MaxPageSize.
func (s *Server) pageSize(r *http.Request) int {
	size := s.opts.MaxPageSize
	for _, opt := range strings.Split(r.Header.Get("Sforce-Query-Options"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(opt), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			size = max(n, 200)
		}
	}
	return min(size, s.opts.MaxPageSize)
}

func (s *Server) openCursor(cur *cursor) {
	s.cursorMu.Lock()
	defer s.cursorMu.Unlock()
	s.cursorSeq++
	cur.id = makeID("01g", s.cursorSeq)
	cur.lastUsed = s.now()
	s.cursors[cur.id] = cur
	if len(s.cursors) > maxCursors {
		var oldest *cursor
		for _, c := range s.cursors {
			if oldest == nil || c.lastUsed.Before(oldest.lastUsed) {
				oldest = c
			}
		}
		delete(s.cursors, oldest.id)
	}
}

func (s *Server) handleQueryMore(w http.ResponseWriter, r *http.Request, c *call) {
	id, offText, _ := strings.Cut(r.PathValue("locator"), "-")
	offset, err := strconv.Atoi(offText)
	now := s.now()
	s.cursorMu.Lock()
	cur, ok := s.cursors[id]
	if ok && now.Sub(cur.lastUsed) > s.opts.LocatorIdle {
		delete(s.cursors, id)
		ok = false
	}
	if ok {
		cur.lastUsed = now
	}
	s.cursorMu.Unlock()
	if !ok || err != nil || offset <= 0 || offset >= len(cur.rows) {
		writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.writePage(w, cur, offset, c.version)
}

// writePage renders a page into a pooled buffer and writes it; the caller
// holds mu for reading.
func (s *Server) writePage(w http.ResponseWriter, cur *cursor, offset int, version string) {
	buf, _ := s.pages.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = s.renderPage((*buf)[:0], cur, offset, version)
	writeBody(w, http.StatusOK, *buf)
	if cap(*buf) <= 64<<20 {
		s.pages.Put(buf)
	}
}

// renderPage appends the page of cur starting at offset to b; the caller
// holds mu for reading.
func (s *Server) renderPage(b []byte, cur *cursor, offset int, version string) []byte {
	end := min(offset+cur.pageSize, len(cur.rows))
	page := cur.rows[offset:end]
	b = slices.Grow(b, 256+len(page)*(128+len(cur.fields)*40))
	b = append(b, `{"totalSize":`...)
	b = strconv.AppendInt(b, int64(len(cur.rows)), 10)
	if end < len(cur.rows) {
		b = append(b, `,"done":false,"nextRecordsUrl":"/services/data/v`...)
		b = append(b, version...)
		b = append(b, "/query/"...)
		b = append(b, cur.id...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(end), 10)
		b = append(b, '"')
	} else {
		b = append(b, `,"done":true`...)
	}
	b = append(b, `,"records":[`...)
	prefix := `{"attributes":{"type":"` + cur.o.Name + `","url":"/services/data/v` + version + `/sobjects/` + cur.o.Name + `/`
	for i, row := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, prefix...)
		b = append(b, cur.o.id(row)...)
		b = append(b, `"}`...)
		for _, f := range cur.fields {
			b = append(b, ',', '"')
			b = append(b, f.Name...)
			b = append(b, '"', ':')
			b = cur.o.appendField(b, f, row)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
