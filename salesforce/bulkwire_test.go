package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

// A Bulk API 2.0 stand-in written from the API reference (§5), for the wire
// details: the create body, job states, results by locator with gzip
// announced or not, the literal "null" locator, Sforce-NumberOfRecords, and
// cleanup.

// bulkOrg records the job calls it sees.
type bulkOrg struct {
	*org
	mu    sync.Mutex
	calls []string // "METHOD path?query"
	polls int
	// states are the states of successive polls; the last one repeats.
	states []string
	errMsg string
	// lists are the pages of the job list by queryLocator ("" for the
	// first); others are jobs besides the one created, which may be
	// aborted and deleted.
	lists  map[string]string
	others map[string]bool
}

func newBulkOrg(t *testing.T, states ...string) *bulkOrg {
	b := &bulkOrg{org: newOrg(t), states: states, lists: map[string]string{"": `{"done":true,"records":[],"nextRecordsUrl":null}`}, others: map[string]bool{}}
	b.handle("GET /jobs/query", func(w http.ResponseWriter, r *http.Request) {
		b.record(r)
		b.mu.Lock()
		body, ok := b.lists[r.URL.Query().Get("queryLocator")]
		b.mu.Unlock()
		if !ok {
			writeJSON(w, 400, `[{"errorCode":"INVALID_QUERY_LOCATOR","message":"invalid query locator"}]`)
			return
		}
		writeJSON(w, 200, body)
	})
	b.handle("POST /jobs/query", func(w http.ResponseWriter, r *http.Request) {
		b.record(r)
		var req map[string]string
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Header.Get("Content-Type") != "application/json" {
			writeJSON(w, 400, `[{"errorCode":"INVALIDJOB","message":"bad body"}]`)
			return
		}
		if req["operation"] != "queryAll" || req["contentType"] != "CSV" || req["columnDelimiter"] != "COMMA" ||
			req["lineEnding"] != "LF" || strings.Contains(req["query"], "ORDER BY") || !strings.Contains(req["query"], "FROM Account") {
			writeJSON(w, 400, `[{"errorCode":"INVALIDJOB","message":"unexpected job `+strings.ReplaceAll(req["query"], `"`, "'")+`"}]`)
			return
		}
		writeJSON(w, 200, `{"id":"750RO000001AbCdYAK","operation":"queryAll","object":"Account","createdById":"0055g00000AbCdEAAV",`+
			`"createdDate":"2024-06-01T10:00:00.000+0000","systemModstamp":"2024-06-01T10:00:00.000+0000","state":"UploadComplete",`+
			`"concurrencyMode":"Parallel","contentType":"CSV","apiVersion":62.0,"lineEnding":"LF","columnDelimiter":"COMMA"}`)
	})
	b.handle("/jobs/query/{id}", func(w http.ResponseWriter, r *http.Request) {
		b.record(r)
		b.mu.Lock()
		other := b.others[r.PathValue("id")]
		b.mu.Unlock()
		switch {
		case other && r.Method == http.MethodPatch:
			writeJSON(w, 200, `{"id":"`+r.PathValue("id")+`","state":"Aborted"}`)
			return
		case other && r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.PathValue("id") != "750RO000001AbCdYAK" {
			writeJSON(w, 404, `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`)
			return
		}
		switch r.Method {
		case http.MethodGet:
			b.mu.Lock()
			state := b.states[min(b.polls, len(b.states)-1)]
			b.polls++
			msg := b.errMsg
			b.mu.Unlock()
			extra := ""
			if msg != "" && state == "Failed" {
				extra = `,"errorMessage":"` + msg + `"`
			}
			writeJSON(w, 200, `{"id":"750RO000001AbCdYAK","operation":"queryAll","object":"Account","state":"`+state+`",`+
				`"apiVersion":62.0,"jobType":"V2Query","numberRecordsProcessed":6,"retries":0,"totalProcessingTime":334`+extra+`}`)
		case http.MethodPatch:
			body, _ := io.ReadAll(r.Body)
			if string(body) != `{"state":"Aborted"}` {
				writeJSON(w, 400, `[{"errorCode":"INVALIDJOB","message":"bad abort"}]`)
				return
			}
			b.mu.Lock()
			b.states = []string{"Aborted"}
			b.polls = 0
			b.mu.Unlock()
			writeJSON(w, 200, `{"id":"750RO000001AbCdYAK","state":"Aborted"}`)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	return b
}

func (b *bulkOrg) record(r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	call := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		call += "?" + r.URL.RawQuery
	}
	b.calls = append(b.calls, call)
}

func (b *bulkOrg) callLog() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.calls...)
}

func bulkClient(t *testing.T, o *org, edit func(*Options)) *Client {
	t.Helper()
	opts := o.options(nil)
	opts.BulkThreshold = -1
	opts.Bulk = BulkOptions{PollInterval: time.Millisecond, MaxPollInterval: time.Millisecond, ResultRecords: 2, PageRecords: 4, JobAttempts: 2}
	if edit != nil {
		edit(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// countAccounts answers COUNT() queries with n.
func countAccounts(o *org, n int) {
	o.handle("GET /queryAll", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Query().Get("q"), "SELECT COUNT() FROM Account") {
			writeJSON(w, 400, `[{"errorCode":"MALFORMED_QUERY","message":"want a count"}]`)
			return
		}
		writeJSON(w, 200, `{"totalSize":`+strconv.Itoa(n)+`,"done":true,"records":[]}`)
	})
}

func TestBulkWire(t *testing.T) {
	b := newBulkOrg(t, "InProgress", "JobComplete")
	countAccounts(b.org, 6)
	header := `"Name","Id","Owner.Name","IsDeleted","NumberOfEmployees","AnnualRevenue","SystemModstamp"` + "\n"
	var mu sync.Mutex
	attempts := map[string]int{}
	b.handle("GET /jobs/query/{id}/results", func(w http.ResponseWriter, r *http.Request) {
		b.record(r)
		if r.Header.Get("Accept") != "text/csv" || r.Header.Get("Accept-Encoding") != "gzip" || r.URL.Query().Get("maxRecords") != "2" {
			writeJSON(w, 400, `[{"errorCode":"TEST","message":"want Accept text/csv, gzip and maxRecords=2"}]`)
			return
		}
		loc := r.URL.Query().Get("locator")
		mu.Lock()
		attempts[loc]++
		n := attempts[loc]
		mu.Unlock()
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=UTF-8")
		switch loc {
		case "":
			// gzip, announced.
			h.Set("Content-Encoding", "gzip")
			h.Set("Sforce-Locator", "MTAwMDA")
			h.Set("Sforce-NumberOfRecords", "2")
			_, _ = io.WriteString(w, gzipped(header+
				`"Acme, Inc.","001000000000001AAA","Ann Admin","false","10","1000.50","2024-01-02T03:04:05.000Z"`+"\n"+
				`"Quote ""Co""","001000000000002AAA","","true","","","2024-01-03T00:00:00.000Z"`+"\n"))
		case "MTAwMDA":
			// gzip, not announced; the first answer ends a record early.
			h.Set("Sforce-Locator", "MjAwMDA")
			h.Set("Sforce-NumberOfRecords", "2")
			body := header + `"Multi` + "\n" + `line","001000000000003AAA","","false","0","0.000","2024-01-04T00:00:00.000Z"` + "\n"
			if n > 1 {
				body += `"NUL ` + "\x00" + `","001000000000004AAA","","false","-5","-0.5","2024-01-05T00:00:00.000+0000"` + "\n"
			}
			_, _ = io.WriteString(w, gzipped(body))
		case "MjAwMDA":
			// plain, CRLF, null as an unquoted empty value.
			h.Set("Sforce-Locator", "null")
			h.Set("Sforce-NumberOfRecords", "2")
			_, _ = w.Write([]byte(strings.ReplaceAll(header, "\n", "\r\n") +
				`Plain,001000000000005AAA,,false,,1.39E8,2024-01-06T00:00:00Z` + "\r\n" +
				`"Café 🚀","001000000000006AAA",,"false","7",,"2024-01-07T00:00:00.000Z"` + "\r\n"))
		default:
			writeJSON(w, 400, `[{"errorCode":"INVALID_QUERY_LOCATOR","message":"invalid query locator"}]`)
		}
	})
	// The job list (two pages) holds jobs an earlier run left behind, and
	// others the sweep must leave alone.
	recent := time.Now().UTC().Add(-time.Minute).Format("2006-01-02T15:04:05.000+0000")
	later := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04:05.000+0000")
	job := func(id, op, object, by, created, state string) string {
		return `{"id":"` + id + `","operation":"` + op + `","object":"` + object + `","createdById":"` + by +
			`","createdDate":"` + created + `","systemModstamp":"` + created + `","state":"` + state +
			`","concurrencyMode":"Parallel","contentType":"CSV","apiVersion":62.0,"jobType":"V2Query","lineEnding":"LF","columnDelimiter":"COMMA"}`
	}
	const me, other, old = "005000000000001AAA", "005000000000002AAA", "2024-06-01T10:00:00.000+0000"
	b.lists[""] = `{"done":false,"records":[` +
		job("750RO0000000001AAA", "queryAll", "Account", other, old, "JobComplete") + `,` +
		job("750RO0000000002AAA", "queryAll", "Account", me, old, "JobComplete") + `,` +
		job("750RO0000000003AAA", "query", "Account", me[:15], old, "Failed") + `,` +
		job("750RO0000000004AAA", "queryAll", "Contact", me, old, "Aborted") +
		`],"nextRecordsUrl":"/services/data/v62.0/jobs/query?queryLocator=01gRO0000016PIAYA2-4"}`
	b.lists["01gRO0000016PIAYA2-4"] = `{"done":true,"records":[` +
		job("750RO0000000005AAA", "queryAll", "Account", me, old, "InProgress") + `,` +
		job("750RO0000000006AAA", "queryAll", "Account", me, recent, "InProgress") + `,` +
		job("750RO0000000007AAA", "queryAll", "Account", me, later, "JobComplete") + `,` +
		job("750RO0000000008AAA", "queryAll", "Account", other, old, "UploadComplete") + `,` +
		job("750RO0000000009AAA", "insert", "Account", me, old, "JobComplete") +
		`],"nextRecordsUrl":null}`
	for i := 1; i <= 9; i++ {
		b.others[fmt.Sprintf("750RO000000000%dAAA", i)] = true
	}
	c := bulkClient(t, b.org, nil)
	obj := testAccount()
	w := sfsync.Window{Object: obj, Fields: obj.Fields, CursorField: "SystemModstamp", IncludeDeleted: true}
	var pages []*sfsync.Page
	err := c.Extract(t.Context(), w, func(_ context.Context, p *sfsync.Page) error {
		pages = append(pages, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	want := []sfsync.Record{
		{"001000000000001AAA", "Acme, Inc.", false, int64(10), sfsync.Decimal("1000.5"), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"001000000000002AAA", `Quote "Co"`, true, nil, nil, day(3)},
		{"001000000000003AAA", "Multi\nline", false, int64(0), sfsync.Decimal("0"), day(4)},
		{"001000000000004AAA", "NUL \x00", false, int64(-5), sfsync.Decimal("-0.5"), day(5)},
		{"001000000000005AAA", "Plain", false, nil, sfsync.Decimal("139000000"), day(6)},
		{"001000000000006AAA", "Café 🚀", false, int64(7), nil, day(7)},
	}
	var got []sfsync.Record
	for i, p := range pages {
		got = append(got, p.Records...)
		if len(p.Records) > 4 || p.Total != 6 || !p.Checkpoint.IsZero() {
			t.Errorf("page %d: %d records, total %d, checkpoint %v; want at most 4, 6, none (open window)", i, len(p.Records), p.Total, p.Checkpoint)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if attempts["MTAwMDA"] != 2 {
		t.Errorf("the short page was fetched %d times, want 2", attempts["MTAwMDA"])
	}
	calls := b.callLog()
	wantCalls := []string{
		"GET /services/data/v62.0/jobs/query",
		"GET /services/data/v62.0/jobs/query?queryLocator=01gRO0000016PIAYA2-4",
		"DELETE /services/data/v62.0/jobs/query/750RO0000000002AAA",
		"DELETE /services/data/v62.0/jobs/query/750RO0000000003AAA",
		"PATCH /services/data/v62.0/jobs/query/750RO0000000005AAA",
		"DELETE /services/data/v62.0/jobs/query/750RO0000000005AAA",
		"POST /services/data/v62.0/jobs/query",
		"GET /services/data/v62.0/jobs/query/750RO000001AbCdYAK",
		"GET /services/data/v62.0/jobs/query/750RO000001AbCdYAK",
		"GET /services/data/v62.0/jobs/query/750RO000001AbCdYAK/results?maxRecords=2",
		"GET /services/data/v62.0/jobs/query/750RO000001AbCdYAK/results?locator=MTAwMDA&maxRecords=2",
		"GET /services/data/v62.0/jobs/query/750RO000001AbCdYAK/results?locator=MTAwMDA&maxRecords=2",
		"GET /services/data/v62.0/jobs/query/750RO000001AbCdYAK/results?locator=MjAwMDA&maxRecords=2",
		"DELETE /services/data/v62.0/jobs/query/750RO000001AbCdYAK",
	}
	if diff := cmp.Diff(wantCalls, calls); diff != "" {
		t.Errorf("job calls (-want +got):\n%s", diff)
	}
	if c.BulkJobs() != 1 {
		t.Errorf("BulkJobs = %d", c.BulkJobs())
	}
	if u := c.Usage(); u.Calls < int64(len(wantCalls))+1 {
		t.Errorf("Usage().Calls = %d, want every HTTP call counted", u.Calls)
	}
}

func TestBulkWireAbortsOnCancel(t *testing.T) {
	b := newBulkOrg(t, "UploadComplete", "InProgress")
	countAccounts(b.org, 6)
	c := bulkClient(t, b.org, nil)
	obj := testAccount()
	w := sfsync.Window{Object: obj, Fields: obj.Fields, CursorField: "SystemModstamp", IncludeDeleted: true}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for {
			b.mu.Lock()
			polls := b.polls
			b.mu.Unlock()
			if polls >= 3 {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	err := c.Extract(ctx, w, func(context.Context, *sfsync.Page) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want cancellation", err)
	}
	calls := b.callLog()
	tail := calls[len(calls)-2:]
	want := []string{"PATCH /services/data/v62.0/jobs/query/750RO000001AbCdYAK", "DELETE /services/data/v62.0/jobs/query/750RO000001AbCdYAK"}
	if diff := cmp.Diff(want, tail); diff != "" {
		t.Errorf("cleanup calls (-want +got):\n%s\nall calls: %v", diff, calls)
	}
}

func TestBulkWireFailedJob(t *testing.T) {
	b := newBulkOrg(t, "Failed")
	countAccounts(b.org, 6)
	c := bulkClient(t, b.org, nil)
	obj := testAccount()
	w := sfsync.Window{Object: obj, Fields: obj.Fields, CursorField: "SystemModstamp", IncludeDeleted: true}
	err := c.Extract(t.Context(), w, func(context.Context, *sfsync.Page) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "failed: no reason given") || !strings.Contains(err.Error(), "after 2 jobs") {
		t.Fatalf("error %v, want the job failure after 2 jobs", err)
	}
	var deletes, creates int
	for _, call := range b.callLog() {
		switch {
		case strings.HasPrefix(call, "DELETE "):
			deletes++
		case strings.HasPrefix(call, "POST "):
			creates++
		case strings.HasPrefix(call, "PATCH "):
			t.Errorf("a failed job was aborted: %s", call)
		}
	}
	if creates != 2 || deletes < 2 {
		t.Errorf("%d jobs created, %d deletes; want 2 and every job deleted", creates, deletes)
	}
}
