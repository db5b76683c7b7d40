package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/soql"
)

// RawPage is one page of a query result with each record as raw JSON.
type RawPage struct {
	TotalSize      int64             // records in the whole result
	Done           bool              // no page follows
	NextRecordsURL string            // the next page's path, when not Done
	Records        []json.RawMessage // records as sent, attributes included
}

// Query runs a SOQL statement (queryAll when all is true, so soft-deleted
// rows are included) and calls fn with each page in order, the next page
// being fetched while fn runs. A non-nil error from fn stops the query and is
// returned.
func (c *Client) Query(ctx context.Context, statement string, all bool, fn func(context.Context, *RawPage) error) error {
	if strings.TrimSpace(statement) == "" {
		return fmt.Errorf("query: empty statement: %w", sfsync.ErrPermanent)
	}
	q := pagedQuery{
		what:      "query",
		statement: statement,
		all:       all,
		pageSize:  c.pageSize,
		decode:    func(b []byte) (*queryPage, error) { return decodePage(b, nil) },
		freshBuf:  true,
	}
	return c.paginate(ctx, q, func(ctx context.Context, p *queryPage) error {
		return fn(ctx, &RawPage{TotalSize: p.total, Done: p.done, NextRecordsURL: p.next, Records: p.raw})
	})
}

// Count returns the number of records in the window (SELECT COUNT()),
// counting soft-deleted ones when the window includes them.
func (c *Client) Count(ctx context.Context, w sfsync.Window) (int64, error) {
	statement, err := soql.WindowCount(w)
	if err != nil {
		return 0, fmt.Errorf("count: %w: %w", err, sfsync.ErrPermanent)
	}
	var total int64 = -1
	err = c.do(ctx, &call{
		method: http.MethodGet,
		path:   c.apiPath + queryResource(w.IncludeDeleted),
		query:  "q=" + encodeQuery(statement),
		what:   "count " + w.Object.Name,
		object: w.Object.Name,
		decoder: func(r io.Reader) error {
			data, err := io.ReadAll(r)
			if err != nil {
				return fmt.Errorf("read body: %w", err)
			}
			p, err := decodePage(data, nil)
			if err != nil {
				return err
			}
			total = p.total
			return nil
		},
	})
	if err != nil {
		return 0, err
	}
	if total < 0 {
		return 0, fmt.Errorf("count %s: the answer has no totalSize: %w", w.Object.Name, sfsync.ErrPermanent)
	}
	now := time.Now()
	c.estimateMu.Lock()
	for k, m := range c.counts {
		if now.Sub(m.at) > countReuse {
			delete(c.counts, k)
		}
	}
	c.counts[queryResource(w.IncludeDeleted)+" "+statement] = countMemo{n: total, at: now}
	c.estimateMu.Unlock()
	return total, nil
}

// countMemo is an answer of Count and when it came.
type countMemo struct {
	n  int64
	at time.Time
}

// countReuse is how old a COUNT() of a window may be for Extract to decide
// with it instead of counting again: an engine typically counts a window
// (for progress) right before extracting it.
const countReuse = 30 * time.Second

// recentCount takes a Count of w made in the last countReuse, if any;
// each answer is taken once.
func (c *Client) recentCount(w sfsync.Window) (int64, bool) {
	statement, err := soql.WindowCount(w)
	if err != nil {
		return 0, false
	}
	key := queryResource(w.IncludeDeleted) + " " + statement
	c.estimateMu.Lock()
	defer c.estimateMu.Unlock()
	m, ok := c.counts[key]
	delete(c.counts, key)
	if !ok || time.Since(m.at) > countReuse {
		return 0, false
	}
	return m.n, true
}

// extractREST pages through a window with REST: the SOQL comes from
// soql.WindowQuery, queryAll is used when the window includes deleted
// records, and every page is decoded by the describe into Records laid out
// as w.Fields. The next page is fetched while fn processes the current one
// (never more than one page ahead). An expired session is renewed and the
// same page fetched again, so no page is lost or repeated.
func (c *Client) extractREST(ctx context.Context, w sfsync.Window, fn func(context.Context, *sfsync.Page) error) error {
	statement, err := soql.WindowQuery(w)
	if err != nil {
		return fmt.Errorf("extract: %w: %w", err, sfsync.ErrPermanent)
	}
	size := c.pageSize
	if w.PageSize > 0 {
		size = min(max(w.PageSize, MinPageSize), MaxPageSize)
	}
	d := newRecordDecoder(w.Object.Name, w.Fields)
	cursorIdx := -1
	for i, f := range w.Fields {
		if w.CursorField != "" && f.Name == w.CursorField {
			cursorIdx = i
		}
	}
	q := pagedQuery{
		what:      "extract " + w.Object.Name,
		object:    w.Object.Name,
		statement: statement,
		all:       w.IncludeDeleted,
		pageSize:  size,
		decode:    func(b []byte) (*queryPage, error) { return decodePage(b, d) },
	}
	return c.paginate(ctx, q, func(ctx context.Context, p *queryPage) error {
		page := &sfsync.Page{Records: p.records, Total: p.total}
		// Pages are ordered by the cursor field, so every record before the
		// last one's cursor value has been delivered.
		if cursorIdx >= 0 && len(p.records) > 0 {
			if t, ok := p.records[len(p.records)-1][cursorIdx].(time.Time); ok {
				page.Checkpoint = t
			}
		}
		return fn(ctx, page)
	})
}

// pagedQuery describes a query to page through.
type pagedQuery struct {
	what, object string
	statement    string
	all          bool
	pageSize     int
	decode       func([]byte) (*queryPage, error)
	// freshBuf gives every page its own body buffer, for decoders whose
	// results alias the body (raw records).
	freshBuf bool
}

type fetched struct {
	page *queryPage
	err  error
}

// paginate runs q and follows nextRecordsUrl. A producer goroutine fetches
// and decodes pages; the unbuffered hand-off keeps it at most one page ahead
// of fn. paginate waits for the producer before returning.
func (c *Client) paginate(ctx context.Context, q pagedQuery, fn func(context.Context, *queryPage) error) error {
	ctx, cancel := context.WithCancel(ctx)
	results := make(chan fetched)
	stopped := make(chan struct{})
	defer func() {
		cancel()
		<-stopped
	}()
	go func() {
		defer close(stopped)
		defer close(results)
		path := c.apiPath + queryResource(q.all)
		query := "q=" + encodeQuery(q.statement)
		var buf bytes.Buffer
		for n := 1; ; n++ {
			if q.freshBuf {
				buf = bytes.Buffer{}
			}
			p, err := c.fetchPage(ctx, q, path, query, &buf, n)
			select {
			case results <- fetched{p, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || p.done {
				return
			}
			if path, query, err = splitNext(p.next); err != nil {
				select {
				case results <- fetched{nil, fmt.Errorf("%s: %w", q.what, err)}:
				case <-ctx.Done():
				}
				return
			}
		}
	}()
	for r := range results {
		if r.err != nil {
			return r.err
		}
		if err := fn(ctx, r.page); err != nil {
			return err
		}
		if r.page.done {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", q.what, err)
	}
	return fmt.Errorf("%s: paging stopped before the last page", q.what)
}

// fetchPage gets and decodes one page, with retries and re-login.
func (c *Client) fetchPage(ctx context.Context, q pagedQuery, path, query string, buf *bytes.Buffer, n int) (*queryPage, error) {
	var page *queryPage
	err := c.do(ctx, &call{
		method: http.MethodGet,
		path:   path,
		query:  query,
		what:   q.what + " page " + strconv.Itoa(n),
		object: q.object,
		header: map[string]string{"Sforce-Query-Options": "batchSize=" + strconv.Itoa(q.pageSize)},
		decoder: func(r io.Reader) error {
			buf.Reset()
			if _, err := buf.ReadFrom(r); err != nil {
				return fmt.Errorf("read page: %w", err)
			}
			p, err := q.decode(buf.Bytes())
			if err != nil {
				return err
			}
			page = p
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	c.log.Debug("page", "call", q.what, "page", n, "rows", max(len(page.records), len(page.raw)), "total", page.total)
	return page, nil
}

// splitNext turns a nextRecordsUrl into a path and query on the instance.
// It is followed as given (for queryAll it names /query/); an absolute URL
// keeps only its path and query, so the token never goes to another host.
func splitNext(next string) (path, query string, err error) {
	u, err := url.Parse(next)
	if err != nil || u.Path == "" || !strings.HasPrefix(u.Path, "/") {
		return "", "", fmt.Errorf("unusable nextRecordsUrl %q: %w", next, sfsync.ErrPermanent)
	}
	return u.EscapedPath(), u.RawQuery, nil
}

func queryResource(all bool) string {
	if all {
		return "/queryAll"
	}
	return "/query"
}

// encodeQuery URL-encodes a whole SOQL statement for q=: spaces as %20 and
// every '+' as %2B, so an offset such as +00:00 can never turn into a space.
func encodeQuery(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
