package salesforce

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

// pagedAccounts serves n records of Account in pages of size per, with
// locators "loc-<page>". nextPath builds the nextRecordsUrl.
type pagedAccounts struct {
	n, per int
}

func accountJSON(i int) string {
	return fmt.Sprintf(`{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001%015d"},`+
		`"Id":"001%015d","Name":"Acct %d","IsDeleted":%v,"NumberOfEmployees":%d,"AnnualRevenue":%d.50,`+
		`"SystemModstamp":"2024-01-02T03:04:%02d.000+0000","Owner":{"attributes":{"type":"User"},"Name":"Ann"}}`,
		i, i, i, i%5 == 0, i*10, i*1000, i%60)
}

func accountRecord(i int) sfsync.Record {
	return sfsync.Record{
		fmt.Sprintf("001%015d", i), fmt.Sprintf("Acct %d", i), i%5 == 0, int64(i * 10),
		sfsync.Decimal(fmt.Sprintf("%d.5", i*1000)), time.Date(2024, 1, 2, 3, 4, i%60, 0, time.UTC),
	}
}

// page renders page p (1-based).
func (pa pagedAccounts) page(p int) string {
	var recs []string
	for i := (p-1)*pa.per + 1; i <= min(p*pa.per, pa.n); i++ {
		recs = append(recs, accountJSON(i))
	}
	pages := (pa.n + pa.per - 1) / pa.per
	done := p >= pages
	next := ""
	if !done {
		next = fmt.Sprintf(`,"nextRecordsUrl":"/services/data/v62.0/query/01gTEST-loc-%d"`, p+1)
	}
	return fmt.Sprintf(`{"totalSize":%d,"done":%v%s,"records":[%s]}`, pa.n, done, next, strings.Join(recs, ","))
}

// serve answers both the first query (resource "/query" or "/queryAll")
// and the locator pages (always under /query/).
func (pa pagedAccounts) register(o *org, resource string, wantBatch string, seenQ *string) {
	o.handle("GET "+resource, func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Sforce-Query-Options"); got != wantBatch {
			writeJSON(w, 400, fmt.Sprintf(`[{"message":"batch header %q","errorCode":"TEST"}]`, got))
			return
		}
		if seenQ != nil {
			*seenQ = r.URL.RawQuery
		}
		writeJSON(w, 200, pa.page(1))
	})
	o.handle("GET /query/{locator}", func(w http.ResponseWriter, r *http.Request) {
		var p int
		if _, err := fmt.Sscanf(r.PathValue("locator"), "01gTEST-loc-%d", &p); err != nil {
			writeJSON(w, 400, `[{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}]`)
			return
		}
		writeJSON(w, 200, pa.page(p))
	})
}

func window(all bool) sfsync.Window {
	acc := testAccount()
	return sfsync.Window{
		Object:         acc,
		Fields:         acc.Fields,
		CursorField:    "SystemModstamp",
		From:           time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		To:             time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
		IncludeDeleted: all,
		Filter:         "Name != 'x+y'",
		PageSize:       500,
	}
}

func collect(t *testing.T, c *Client, w sfsync.Window) ([]sfsync.Record, []int64, error) {
	t.Helper()
	var recs []sfsync.Record
	var totals []int64
	err := c.Extract(t.Context(), w, func(ctx context.Context, p *sfsync.Page) error {
		recs = append(recs, p.Records...)
		totals = append(totals, p.Total)
		return nil
	})
	return recs, totals, err
}

func TestExtractPaging(t *testing.T) {
	for _, all := range []bool{false, true} {
		t.Run(fmt.Sprintf("queryAll=%v", all), func(t *testing.T) {
			o := newOrg(t)
			resource := "/query"
			if all {
				resource = "/queryAll"
			}
			var rawQ string
			pagedAccounts{n: 7, per: 3}.register(o, resource, "batchSize=500", &rawQ)
			c := o.client(nil)
			recs, totals, err := collect(t, c, window(all))
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			var want []sfsync.Record
			for i := 1; i <= 7; i++ {
				want = append(want, accountRecord(i))
			}
			if d := cmp.Diff(want, recs); d != "" {
				t.Errorf("records (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]int64{7, 7, 7}, totals); d != "" {
				t.Errorf("totals (-want +got):\n%s", d)
			}
			wantLog := []string{
				"/services/data/v62.0" + resource + "?" + rawQ,
				"/services/data/v62.0/query/01gTEST-loc-2?",
				"/services/data/v62.0/query/01gTEST-loc-3?",
			}
			if d := cmp.Diff(wantLog, o.requestLog()); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
			if strings.Contains(rawQ, "+") {
				t.Errorf("raw query %q has a raw '+'", rawQ)
			}
			vals, err := url.ParseQuery(rawQ)
			if err != nil {
				t.Fatal(err)
			}
			wantSOQL := "SELECT Id, Name, IsDeleted, NumberOfEmployees, AnnualRevenue, SystemModstamp FROM Account " +
				"WHERE SystemModstamp >= 2024-01-01T00:00:00Z AND SystemModstamp < 2024-02-01T00:00:00Z AND (Name != 'x+y') " +
				"ORDER BY SystemModstamp ASC, Id ASC"
			if got := vals.Get("q"); got != wantSOQL {
				t.Errorf("q =\n %s\nwant\n %s", got, wantSOQL)
			}
		})
	}
}

func TestExtractReloginMidPaging(t *testing.T) {
	o := newOrg(t)
	pa := pagedAccounts{n: 9, per: 3}
	pa.register(o, "/query", "batchSize=2000", nil)
	c := o.client(nil)
	w := window(false)
	w.PageSize = 0
	var recs []sfsync.Record
	pages := 0
	err := c.Extract(t.Context(), w, func(ctx context.Context, p *sfsync.Page) error {
		pages++
		recs = append(recs, p.Records...)
		if pages == 1 {
			// The session expires while page 1 is processed; page 2 may be
			// in flight already, or not: either way it must arrive once.
			o.expire()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	var want []sfsync.Record
	for i := 1; i <= 9; i++ {
		want = append(want, accountRecord(i))
	}
	if d := cmp.Diff(want, recs); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	if n := o.loginCount(); n > 2 {
		t.Errorf("logins = %d, want at most 2", n)
	}
}

func TestExtractReloginRetriesSamePage(t *testing.T) {
	o := newOrg(t)
	pa := pagedAccounts{n: 9, per: 3}
	o.handle("GET /query", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, pa.page(1)) })
	var mu sync.Mutex
	expired := false
	o.handle("GET /query/{locator}", func(w http.ResponseWriter, r *http.Request) {
		var p int
		fmt.Sscanf(r.PathValue("locator"), "01gTEST-loc-%d", &p)
		mu.Lock()
		first := p == 2 && !expired
		expired = expired || first
		mu.Unlock()
		if first {
			// The session times out exactly when page 2 is asked for.
			o.expire()
			writeJSON(w, 401, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`)
			return
		}
		writeJSON(w, 200, pa.page(p))
	})
	c := o.client(nil)
	recs, _, err := collect(t, c, window(false))
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	var want []sfsync.Record
	for i := 1; i <= 9; i++ {
		want = append(want, accountRecord(i))
	}
	if d := cmp.Diff(want, recs); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	var paths []string
	for _, r := range o.requestLog() {
		paths = append(paths, strings.Split(r, "?")[0])
	}
	wantPaths := []string{
		"/services/data/v62.0/query",
		"/services/data/v62.0/query/01gTEST-loc-2",
		"/services/data/v62.0/query/01gTEST-loc-2",
		"/services/data/v62.0/query/01gTEST-loc-3",
	}
	if d := cmp.Diff(wantPaths, paths); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	if n := o.loginCount(); n != 2 {
		t.Errorf("logins = %d, want 2", n)
	}
}

func TestExtractPrefetchesOnePageAhead(t *testing.T) {
	o := newOrg(t)
	pa := pagedAccounts{n: 12, per: 3}
	asked := make(chan int, 8)
	o.handle("GET /query", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, pa.page(1)) })
	o.handle("GET /query/{locator}", func(w http.ResponseWriter, r *http.Request) {
		var p int
		fmt.Sscanf(r.PathValue("locator"), "01gTEST-loc-%d", &p)
		writeJSON(w, 200, pa.page(p))
		asked <- p
	})
	c := o.client(nil)
	pages := 0
	err := c.Extract(t.Context(), window(false), func(ctx context.Context, p *sfsync.Page) error {
		pages++
		if pages == 1 {
			// Page 2 is fetched while page 1 is being processed ...
			select {
			case p := <-asked:
				if p != 2 {
					t.Errorf("prefetched page %d, want 2", p)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("page 2 was not prefetched while page 1 was processed")
			}
			// ... and page 3 is not: the producer waits for page 2 to be
			// taken. Give it the chance to misbehave.
			time.Sleep(20 * time.Millisecond)
			select {
			case p := <-asked:
				t.Errorf("page %d fetched two pages ahead", p)
			default:
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	if pages != 4 {
		t.Errorf("pages = %d, want 4", pages)
	}
}

func TestExtractStopsOnCallbackError(t *testing.T) {
	o := newOrg(t)
	pagedAccounts{n: 30, per: 3}.register(o, "/query", "batchSize=500", nil)
	c := o.client(nil)
	stop := errors.New("stop here")
	err := c.Extract(t.Context(), window(false), func(ctx context.Context, p *sfsync.Page) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("Extract = %v, want the callback's error", err)
	}
	if n := len(o.requestLog()); n > 2 {
		t.Errorf("%d requests after the callback failed on page 1, want at most 2", n)
	}
}

func TestExtractRejectsBadWindow(t *testing.T) {
	o := newOrg(t)
	c := o.client(nil)
	w := window(false)
	w.Filter = "Name = 'x') OR (Id != null"
	err := c.Extract(t.Context(), w, func(context.Context, *sfsync.Page) error { return nil })
	if !errors.Is(err, sfsync.ErrPermanent) || !strings.Contains(err.Error(), "filter for Account") {
		t.Errorf("Extract = %v, want a permanent filter error", err)
	}
	if n := len(o.requestLog()); n != 0 {
		t.Errorf("%d requests for an invalid window", n)
	}
}

func TestCount(t *testing.T) {
	o := newOrg(t)
	var q string
	o.handle("GET /queryAll", func(w http.ResponseWriter, r *http.Request) {
		q = r.URL.Query().Get("q")
		writeJSON(w, 200, `{"totalSize":4321,"done":true,"records":[]}`)
	})
	c := o.client(nil)
	n, err := c.Count(t.Context(), window(true))
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	if n != 4321 {
		t.Errorf("Count = %d, want 4321", n)
	}
	if !strings.HasPrefix(q, "SELECT COUNT() FROM Account WHERE SystemModstamp >= ") {
		t.Errorf("q = %q", q)
	}
}

func TestQueryRaw(t *testing.T) {
	o := newOrg(t)
	pagedAccounts{n: 4, per: 3}.register(o, "/query", "batchSize=2000", nil)
	c := o.client(nil)
	var pages []*RawPage
	err := c.Query(t.Context(), "SELECT Id FROM Account", false, func(ctx context.Context, p *RawPage) error {
		pages = append(pages, p)
		return nil
	})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(pages) != 2 || len(pages[0].Records) != 3 || len(pages[1].Records) != 1 {
		t.Fatalf("pages = %+v", pages)
	}
	if pages[0].Done || pages[0].NextRecordsURL != "/services/data/v62.0/query/01gTEST-loc-2" || !pages[1].Done || pages[1].TotalSize != 4 {
		t.Errorf("page metadata: %+v / %+v", pages[0], pages[1])
	}
	// Raw records survive later pages (each page owns its buffer).
	var rec map[string]any
	if err := json.Unmarshal(pages[0].Records[2], &rec); err != nil {
		t.Fatal(err)
	}
	if rec["Id"] != "001000000000000003" {
		t.Errorf("record 3 = %v", rec)
	}
}

func TestGzipResponses(t *testing.T) {
	o := newOrg(t)
	pa := pagedAccounts{n: 2, per: 2}
	o.handle("GET /query", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			writeJSON(w, 400, `[{"message":"no gzip","errorCode":"TEST"}]`)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write([]byte(pa.page(1)))
		_ = zw.Close()
	})
	c := o.client(nil)
	recs, _, err := collect(t, c, window(false))
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	if d := cmp.Diff([]sfsync.Record{accountRecord(1), accountRecord(2)}, recs); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
}

func TestNextRecordsURLStaysOnInstance(t *testing.T) {
	o := newOrg(t)
	o.handle("GET /query", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"totalSize":2,"done":false,"nextRecordsUrl":"https://evil.example/services/data/v62.0/query/01gTEST-loc-2","records":[`+accountJSON(1)+`]}`)
	})
	o.handle("GET /query/{locator}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"totalSize":2,"done":true,"records":[`+accountJSON(2)+`]}`)
	})
	c := o.client(nil)
	recs, _, err := collect(t, c, window(false))
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	if len(recs) != 2 {
		t.Errorf("got %d records, want 2", len(recs))
	}
}
