package salesforce

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync/sfemu"
)

// rewriteResultPages serves the emulator with its resultPages answers
// spelled as other sources spell them: entries as plain strings or
// {"resultLink"}, the next list as nextRecordsUrl.
func rewriteResultPages(emu http.Handler, asStrings bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/resultPages") {
			emu.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		r.Header.Del("Accept-Encoding")
		emu.ServeHTTP(rec, r)
		var in struct {
			ResultPages []struct {
				ResultURL string `json:"resultUrl"`
			} `json:"resultPages"`
			NextRecordURL *string `json:"nextRecordUrl"`
			Done          bool    `json:"done"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &in) != nil {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		var pages []any
		for _, p := range in.ResultPages {
			if asStrings {
				pages = append(pages, p.ResultURL)
			} else {
				pages = append(pages, map[string]string{"resultLink": p.ResultURL})
			}
		}
		out := map[string]any{"resultPages": pages, "done": in.Done, "nextRecordsUrl": in.NextRecordURL}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// TestExtractBulkParallelPages checks that a job's result pages fetched in
// parallel through resultPages give the same records as REST, whichever
// way the list is spelled, through resets mid-download, and that a server
// without the resource (404) is read page after page instead.
func TestExtractBulkParallelPages(t *testing.T) {
	const n = 1200
	emu, err := sfemu.New(sfemu.Options{Seed: 31, Records: map[string]int{"Account": n, "User": 5}})
	if err != nil {
		t.Fatal(err)
	}
	var lists, resultsReqs, inFlight, maxInFlight atomic.Int64
	var missing atomic.Bool
	var spelling atomic.Int32
	plain, strs, links := emu, rewriteResultPages(emu, true), rewriteResultPages(emu, false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/resultPages"):
			lists.Add(1)
			if missing.Load() {
				http.Error(w, `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`, http.StatusNotFound)
				return
			}
		case strings.HasSuffix(r.URL.Path, "/results"):
			resultsReqs.Add(1)
			now := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := maxInFlight.Load(); now > m && !maxInFlight.CompareAndSwap(m, now); m = maxInFlight.Load() {
			}
		}
		[]http.Handler{plain, strs, links}[spelling.Load()].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e := &emuOrg{emu: emu, url: srv.URL}
	rest := e.client(t, 0, nil)
	w := emuWindow(t, rest, "Account", time.Time{})
	want, err := extractAll(t.Context(), rest, w)
	if err != nil {
		t.Fatal(err)
	}
	parallel := func(t *testing.T) *Client {
		return e.client(t, -1, func(o *Options) {
			o.Bulk.ResultRecords = 100
			o.Bulk.ResultStreams = 3
			o.Bulk.PageRecords = 70
		})
	}
	check := func(t *testing.T, c *Client, wantLists int64) {
		t.Helper()
		lists.Store(0)
		resultsReqs.Store(0)
		got, err := extractAll(t.Context(), c, w)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.byID, got.byID); diff != "" {
			t.Fatalf("Bulk with parallel pages and REST differ (-rest +bulk):\n%s", diff)
		}
		if got.n != n {
			t.Errorf("delivered %d records, want %d", got.n, n)
		}
		for i, p := range got.pages {
			if len(p.Records) > 70 {
				t.Errorf("page %d has %d records, want at most 70", i, len(p.Records))
			}
		}
		if last := got.pages[len(got.pages)-1]; !last.Checkpoint.IsZero() {
			t.Errorf("the open window's last page has checkpoint %v", last.Checkpoint)
		}
		if lists.Load() != wantLists {
			t.Errorf("%d resultPages lists, want %d", lists.Load(), wantLists)
		}
		if left := emu.BulkJobs(); len(left) != 0 {
			t.Errorf("jobs left behind: %+v", left)
		}
		t.Logf("%d results requests, %d lists", resultsReqs.Load(), lists.Load())
	}
	pages := int64((n + 99) / 100)
	for i, name := range []string{"documented spelling", "entries as strings", "resultLink and nextRecordsUrl"} {
		t.Run(name, func(t *testing.T) {
			spelling.Store(int32(i))
			defer spelling.Store(0)
			check(t, parallel(t), (pages+4)/5)
		})
	}
	t.Run("slow pages overlap", func(t *testing.T) {
		emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultSlow, Route: "bulkresults", Delay: 50 * time.Millisecond, Times: -1})
		defer emu.ClearFaults()
		maxInFlight.Store(0)
		check(t, parallel(t), (pages+4)/5)
		if m := maxInFlight.Load(); m < 2 || m > 3 {
			t.Errorf("at most %d result pages were fetched at once, want 2 or 3", m)
		}
	})
	t.Run("resets mid-download", func(t *testing.T) {
		emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultReset, Route: "bulkresults", After: 2, Times: 3})
		defer emu.ClearFaults()
		check(t, parallel(t), (pages+4)/5)
	})
	t.Run("server without resultPages", func(t *testing.T) {
		missing.Store(true)
		defer missing.Store(false)
		c := parallel(t)
		check(t, c, 1)
		// Remembered: the next extraction does not ask again.
		check(t, c, 0)
	})
	t.Run("API version before 58.0", func(t *testing.T) {
		c := e.client(t, -1, func(o *Options) {
			o.APIVersion = "57.0"
			o.Bulk.ResultRecords = 100
			o.Bulk.ResultStreams = 3
		})
		if c.parallelResults() {
			t.Error("parallel result pages with API 57.0")
		}
	})
}

func TestResultPagesListSpellings(t *testing.T) {
	for _, tc := range []struct {
		body      string
		wantPages []resultLink
		wantNext  string
	}{
		{`{"resultPages":[{"resultUrl":"/a"},{"resultUrl":"/b"}],"done":false,"nextRecordUrl":"/n"}`, []resultLink{"/a", "/b"}, "/n"},
		{`{"resultPages":[{"resultLink":"/a"}],"done":false,"nextRecordsUrl":"/n"}`, []resultLink{"/a"}, "/n"},
		{`{"resultPages":["/a","/b"],"done":true,"nextRecordsUrl":null}`, []resultLink{"/a", "/b"}, ""},
		{`{"resultPages":["/a"],"done":true,"nextRecordUrl":"/n"}`, []resultLink{"/a"}, ""},
		{`{"resultPages":["/a"],"nextRecordsUrl":"null"}`, []resultLink{"/a"}, ""},
		{`{"resultPages":["/a"],"nextRecordsUrl":"/n"}`, []resultLink{"/a"}, "/n"},
	} {
		var l resultPagesList
		if err := json.Unmarshal([]byte(tc.body), &l); err != nil {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		if diff := cmp.Diff(tc.wantPages, l.Pages); diff != "" || l.next() != tc.wantNext {
			t.Errorf("%s: pages (-want +got):\n%s next %q, want %q", tc.body, diff, l.next(), tc.wantNext)
		}
	}
	for _, link := range []string{"/services/data/v62.0/jobs/query/750000000000001AAA/results?locator=x", "https://elsewhere.example/x", "/services/data/v62.0/sobjects/Account"} {
		_, _, err := resultsLink(link, "750000000000002AAA")
		if err == nil {
			t.Errorf("results URL %q of another job or resource accepted", link)
		}
	}
	if p, q, err := resultsLink("/services/data/v62.0/jobs/query/750000000000002AAA/results?locator=MTAw&maxRecords=100", "750000000000002AAA"); err != nil ||
		p != "/services/data/v62.0/jobs/query/750000000000002AAA/results" || q != "locator=MTAw&maxRecords=100" {
		t.Errorf("results URL split into %q %q, %v", p, q, err)
	}
}
