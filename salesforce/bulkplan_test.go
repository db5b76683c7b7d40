package salesforce

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sfemu"
)

// routeCounter counts requests per kind in front of an emulator.
type routeCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (rc *routeCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := "other"
		p := r.URL.Path
		q := r.URL.Query().Get("q")
		switch {
		case strings.HasPrefix(q, "SELECT COUNT()"):
			kind = "count"
		case q != "":
			kind = "query"
		case strings.HasSuffix(p, "/jobs/query") && r.Method == http.MethodPost:
			kind = "create"
		case strings.HasSuffix(p, "/jobs/query") && r.Method == http.MethodGet:
			kind = "list"
		case strings.HasSuffix(p, "/results"):
			kind = "results"
		case strings.Contains(p, "/jobs/query/") && r.Method == http.MethodGet:
			kind = "poll"
		case strings.Contains(p, "/jobs/query/") && r.Method == http.MethodDelete:
			kind = "delete"
		}
		rc.mu.Lock()
		rc.counts[kind]++
		rc.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (rc *routeCounter) take() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.counts
	rc.counts = map[string]int{}
	return out
}

// countedOrg is an emulator whose requests are counted by kind.
func countedOrg(t *testing.T, opts sfemu.Options) (*emuOrg, *routeCounter) {
	t.Helper()
	emu, err := sfemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rc := &routeCounter{counts: map[string]int{}}
	srv := httptest.NewServer(rc.wrap(emu))
	t.Cleanup(srv.Close)
	return &emuOrg{emu: emu, url: srv.URL}, rc
}

// movingClock is the wall clock moved by an adjustable offset.
type movingClock struct{ offset atomic.Int64 }

func (c *movingClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// rangeCount counts the records of one planned range.
func rangeCount(t *testing.T, c *Client, w sfsync.Window, r bulkRange) int64 {
	t.Helper()
	w.From, w.To = r.from, r.to
	n, err := c.Count(t.Context(), w)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPlanRanges checks that a window is split into contiguous ranges
// that together hold it, with few calls: ranges of about JobRecords
// records when the records are spread evenly over time or crowded into its
// last minutes, and within the call budget whatever the spread.
func TestPlanRanges(t *testing.T) {
	const n, limit = 2000, 400
	for _, tc := range []struct {
		name string
		// crowd is when, before the present, three quarters of the records
		// are updated (over 15 minutes); 0 for no crowd.
		crowd    time.Duration
		balanced bool
	}{
		{"even", 0, true},
		{"crowded at the end", 15 * time.Minute, true},
		{"crowded in the middle", 45 * 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &movingClock{}
			e, rc := countedOrg(t, sfemu.Options{Seed: 21, Clock: clock, Records: map[string]int{"Account": n, "User": 5}})
			skewed := tc.crowd > 0
			if skewed {
				clock.offset.Store(-int64(tc.crowd))
				for range 15 {
					if _, err := e.emu.UpdateRandom("Account", 100, nil); err != nil {
						t.Fatal(err)
					}
					clock.offset.Add(int64(time.Minute))
				}
				clock.offset.Store(int64(time.Minute))
			}
			c := e.client(t, -1, func(o *Options) { o.Bulk.JobRecords = limit })
			w := emuWindow(t, c, "Account", time.Time{})
			total, err := c.Count(t.Context(), w)
			if err != nil || total != n {
				t.Fatalf("count %d, %v", total, err)
			}
			rc.take()
			ranges, err := c.planRanges(t.Context(), w, total)
			if err != nil {
				t.Fatal(err)
			}
			calls := rc.take()
			jobs := int((total + limit - 1) / limit)
			if tc.balanced && (len(ranges) < jobs || len(ranges) > jobs+2) {
				t.Errorf("%d ranges, want about %d", len(ranges), jobs)
			}
			if !ranges[0].from.IsZero() || !ranges[len(ranges)-1].to.IsZero() {
				t.Errorf("ranges do not keep the window's open ends: %+v", ranges)
			}
			var sum int64
			var counts []int64
			for i, r := range ranges {
				if i > 0 && !r.from.Equal(ranges[i-1].to) {
					t.Errorf("range %d starts at %v, the previous one ends at %v", i, r.from, ranges[i-1].to)
				}
				got := rangeCount(t, c, w, r)
				if got != r.count {
					t.Errorf("range %d [%v, %v): planned %d records, holds %d", i, r.from, r.to, r.count, got)
				}
				if tc.balanced && got > limit*5/4 {
					t.Errorf("range %d [%v, %v) holds %d records, want at most %d", i, r.from, r.to, got, limit*5/4)
				}
				sum += got
				counts = append(counts, got)
			}
			if sum != total {
				t.Errorf("ranges hold %d records, the window %d", sum, total)
			}
			// One query for the first record, one COUNT() per boundary when
			// the records are even, more when they are not, within budget.
			maxCounts := jobs - 1
			if skewed {
				maxCounts = planCountsBase + planCounts*jobs
			}
			if calls["query"] != 1 || calls["count"] > maxCounts || len(calls) > 2 {
				t.Errorf("planning made %v, want 1 query and at most %d counts", calls, maxCounts)
			}
			t.Logf("ranges of %v records, planned with %v", counts, calls)
		})
	}
}

// TestExtractBulkCallBudget checks the calls of a split Bulk extraction
// against the least the API allows for its jobs and page size: one create,
// one delete and (on the emulator) two polls per job, the result pages,
// plus the planning (one query and one COUNT() per boundary) and one page
// of the job list (the sweep for jobs left behind). The COUNT()
// an engine makes right before Extract is reused, not repeated.
func TestExtractBulkCallBudget(t *testing.T) {
	const n, limit, pageRecs = 3000, 1000, 100
	e, rc := countedOrg(t, sfemu.Options{Seed: 22, Records: map[string]int{"Account": n, "User": 5}})
	c := e.client(t, 1, func(o *Options) {
		o.Bulk.JobRecords = limit
		o.Bulk.ResultRecords = pageRecs
	})
	w := emuWindow(t, c, "Account", time.Time{})
	if _, err := c.Count(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	rc.take()
	got, err := extractAll(t.Context(), c, w)
	if err != nil {
		t.Fatal(err)
	}
	calls := rc.take()
	if got.n != n {
		t.Fatalf("extracted %d records, want %d", got.n, n)
	}
	jobs := int(c.BulkJobs())
	if jobs != n/limit {
		t.Errorf("%d jobs, want %d", jobs, n/limit)
	}
	pages := (n + pageRecs - 1) / pageRecs
	want := map[string]int{"create": jobs, "delete": jobs, "poll": 2 * jobs, "query": 1, "list": 1}
	for kind, w := range want {
		if calls[kind] != w {
			t.Errorf("%d %s calls, want %d (all: %v)", calls[kind], kind, w, calls)
		}
	}
	if calls["count"] > jobs-1 {
		t.Errorf("%d COUNT() calls, want at most %d (all: %v)", calls["count"], jobs-1, calls)
	}
	if calls["results"] < pages || calls["results"] > pages+jobs-1 {
		t.Errorf("%d result pages, want %d to %d (all: %v)", calls["results"], pages, pages+jobs-1, calls)
	}
	t.Logf("calls %v; least the API allows: %d", calls, pages+3*jobs+1)

	// Without a COUNT() just before, Extract counts the window itself.
	if _, err := extractAll(t.Context(), c, w); err != nil {
		t.Fatal(err)
	}
	if calls := rc.take(); calls["count"] < 1 {
		t.Errorf("an Extract on its own made no COUNT(): %v", calls)
	}
}

func TestFirstPollPace(t *testing.T) {
	c := &Client{bulk: BulkOptions{PollInterval: 100 * time.Millisecond}}
	if got := c.firstPoll(1_000_000); got != 100*time.Millisecond {
		t.Errorf("first poll before any job: %v, want the poll interval", got)
	}
	c.learnPace(500, time.Minute) // too small to teach anything
	if got := c.firstPoll(1_000_000); got != 100*time.Millisecond {
		t.Errorf("first poll after a small job: %v, want the poll interval", got)
	}
	c.learnPace(100_000, 10*time.Second) // 10,000 records/s
	for _, tc := range []struct {
		expected int64
		want     time.Duration
	}{{0, 100 * time.Millisecond}, {1000, 100 * time.Millisecond}, {200_000, 10 * time.Second}, {100_000_000, maxFirstPoll}} {
		if got := c.firstPoll(tc.expected); got != tc.want {
			t.Errorf("first poll of a job of %d records: %v, want %v", tc.expected, got, tc.want)
		}
	}
}
