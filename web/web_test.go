package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/orchestrator"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// fixture is a service with fixed contents, for checking exactly how the
// interfaces render them; the end-to-end tests use a real runner.
type fixture struct {
	mu       sync.Mutex
	triggers []string
}

const hostileError = `describe Account: <script>alert("x")</script> & INVALID_FIELD`

func (f *fixture) Service() orchestrator.ServiceView {
	return orchestrator.ServiceView{Owner: "host:1:abc", StartedAt: now.Add(-time.Hour), Ready: true,
		Usage: sfsync.APIUsage{Used: 850, Max: 1000, Calls: 42}, BudgetShare: 0.8, Active: 1, Parallelism: 2, WarehouseOpen: true}
}

func (f *fixture) Objects() []orchestrator.ObjectView {
	run := sfsync.Run{ID: "r1", Object: "Account", StartedAt: now.Add(-10 * time.Minute), FinishedAt: now.Add(-9 * time.Minute),
		Status: sfsync.RunComplete, RowsExtracted: 120, RowsUpserted: 118, RowsDeleted: 2, APICalls: 7, BulkJobs: 2}
	return []orchestrator.ObjectView{
		{Status: orchestrator.Status{Object: "Account", State: orchestrator.StateDone, Outcome: sfsync.RunComplete, RunID: "r1"},
			Schedule: "every 15m0s", DueAt: now.Add(5 * time.Minute), Rows: 2500, LastRun: &run,
			Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: now.Add(-90 * time.Second)}, LastSuccess: run.FinishedAt},
		{Status: orchestrator.Status{Object: "Contact", State: orchestrator.StateExtracting}, Schedule: "*/5 * * * *",
			Running: true, RunStarted: now.Add(-time.Minute), Extracted: 400, Estimate: 1000},
		{Status: orchestrator.Status{Object: "Lead", State: orchestrator.StateFailed, Outcome: sfsync.RunFailed, Attempt: 3, Error: hostileError},
			Schedule: "every 15m0s", DueAt: now.Add(-time.Minute)},
	}
}

func (f *fixture) Object(name string) (orchestrator.ObjectView, bool) {
	for _, v := range f.Objects() {
		if strings.EqualFold(v.Object, name) {
			return v, true
		}
	}
	return orchestrator.ObjectView{}, false
}

func (f *fixture) Runs(object string, limit int) ([]sfsync.Run, error) {
	if object != "" && object != "Account" && object != "Lead" && object != "Contact" {
		return nil, fmt.Errorf("%s: %w", object, orchestrator.ErrUnknownObject)
	}
	var runs []sfsync.Run
	for i := range 6 {
		started := now.Add(-time.Duration(6-i) * 15 * time.Minute)
		runs = append(runs, sfsync.Run{ID: fmt.Sprintf("a%d", i), Object: "Account", StartedAt: started, FinishedAt: started.Add(time.Duration(i+1) * time.Second),
			Status: sfsync.RunComplete, RowsExtracted: int64(100 * i)})
	}
	runs = append(runs, sfsync.Run{ID: "l1", Object: "Lead", StartedAt: now.Add(-time.Minute), FinishedAt: now.Add(-time.Minute), Status: sfsync.RunFailed, Error: hostileError})
	var out []sfsync.Run
	for i := len(runs) - 1; i >= 0; i-- {
		if object == "" || runs[i].Object == object {
			out = append(out, runs[i])
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (f *fixture) Trigger(object string, full bool) error {
	v, ok := f.Object(object)
	switch {
	case !ok:
		return fmt.Errorf("%s: %w", object, orchestrator.ErrUnknownObject)
	case v.Running:
		return fmt.Errorf("%s: %w", object, orchestrator.ErrRunning)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.triggers = append(f.triggers, fmt.Sprintf("%s full=%v", v.Object, full))
	return nil
}

func (f *fixture) Metrics() orchestrator.Metrics {
	return orchestrator.Metrics{Buckets: []float64{1, 60}, Objects: []orchestrator.ObjectMetrics{
		{Object: "Account", RecordsSynced: 1500, RowsUpserted: 1400, RowsDeleted: 3,
			Runs:           map[sfsync.RunStatus]int64{sfsync.RunComplete: 6, sfsync.RunPartial: 1},
			DurationCounts: []int64{1, 6, 7}, DurationSum: 30.5},
		{Object: "Lead", Runs: map[sfsync.RunStatus]int64{sfsync.RunFailed: 3}, DurationCounts: []int64{3, 3, 3}},
	}}
}

func serve(t *testing.T, svc Service, token sfsync.Secret) *httptest.Server {
	t.Helper()
	h, err := New(Options{Service: svc, Token: token, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string, header http.Header) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func TestAuth(t *testing.T) {
	const token = "s3cret-token-value"
	srv := serve(t, &fixture{}, sfsync.Secret(token))
	basic := func(pw string) http.Header {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth("anyone", pw)
		return req.Header
	}
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		want               int
	}{
		{"no token", "GET", "/api/objects", nil, 401},
		{"no token, page", "GET", "/", nil, 401},
		{"no token, metrics", "GET", "/metrics", nil, 401},
		{"no token, trigger", "POST", "/api/objects/Account/run", nil, 401},
		{"wrong token", "GET", "/api/objects", http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"empty bearer", "GET", "/api/objects", http.Header{"Authorization": {"Bearer "}}, 401},
		{"bearer", "GET", "/api/objects", http.Header{"Authorization": {"Bearer " + token}}, 200},
		{"bearer, lower case scheme", "GET", "/metrics", http.Header{"Authorization": {"bearer " + token}}, 200},
		{"basic", "GET", "/", basic(token), 200},
		{"basic, wrong", "GET", "/", basic("nope"), 401},
		{"health needs no token", "GET", "/healthz", nil, 200},
	} {
		status, header, body := do(t, tc.method, srv.URL+tc.path, tc.header)
		if status != tc.want {
			t.Errorf("%s: %s %s = %d, want %d\n%s", tc.name, tc.method, tc.path, status, tc.want, body)
		}
		if status == 401 {
			if got := header.Values("WWW-Authenticate"); len(got) != 2 {
				t.Errorf("%s: WWW-Authenticate %q, want bearer and basic challenges", tc.name, got)
			}
		}
		if strings.Contains(body, token) {
			t.Errorf("%s: the response shows the token", tc.name)
		}
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	f := &fixture{}
	srv := serve(t, f, "")
	status, _, _ := do(t, "POST", srv.URL+"/objects/Account/run", http.Header{"Origin": {"https://evil.example"}})
	if status != http.StatusForbidden {
		t.Errorf("cross-origin form post = %d, want 403", status)
	}
	status, _, _ = do(t, "POST", srv.URL+"/objects/Account/run", http.Header{"Origin": {srv.URL}})
	if status != http.StatusOK { // redirected to the page
		t.Errorf("same-origin form post = %d, want the page after a redirect", status)
	}
	status, _, _ = do(t, "POST", srv.URL+"/objects/Lead/run", http.Header{"Origin": {"https://sfsync.example"}, "X-Forwarded-Host": {"sfsync.example"}})
	if status != http.StatusOK {
		t.Errorf("form post through a proxy = %d, want the page after a redirect", status)
	}
	if diff := cmp.Diff([]string{"Account full=false", "Lead full=false"}, f.triggers); diff != "" {
		t.Errorf("triggers (-want +got):\n%s", diff)
	}
}

func TestAPI(t *testing.T) {
	f := &fixture{}
	srv := serve(t, f, "")
	status, header, body := do(t, "GET", srv.URL+"/api/objects", nil)
	if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/objects = %d %s", status, header.Get("Content-Type"))
	}
	var objects []map[string]any
	if err := json.Unmarshal([]byte(body), &objects); err != nil {
		t.Fatal(err)
	}
	if len(objects) != 3 {
		t.Fatalf("%d objects, want 3", len(objects))
	}
	acct := objects[0]
	for key, want := range map[string]any{
		"object": "Account", "state": "done", "running": false, "rows": 2500.0, "lag_seconds": 90.0,
		"cursor": "2025-06-01T11:58:30Z", "cursor_field": "SystemModstamp", "next_run": "2025-06-01T12:05:00Z",
		"last_outcome": "complete", "schedule": "every 15m0s", "failed_attempts": 0.0,
	} {
		if diff := cmp.Diff(want, acct[key]); diff != "" {
			t.Errorf("Account %s (-want +got):\n%s", key, diff)
		}
	}
	last := acct["last_run"].(map[string]any)
	if last["rows_extracted"] != 120.0 || last["duration_seconds"] != 60.0 || last["status"] != "complete" ||
		last["api_calls"] != 7.0 || last["bulk_jobs"] != 2.0 {
		t.Errorf("Account last_run = %v", last)
	}
	contact := objects[1]
	if p, ok := contact["progress"].(map[string]any); !ok || p["extracted"] != 400.0 || p["estimate"] != 1000.0 || contact["next_run"] != nil {
		t.Errorf("running Contact = %v", contact)
	}
	lead := objects[2]
	if lead["error"] != hostileError || lead["next_run"] != "2025-06-01T12:00:00Z" || lead["failed_attempts"] != 3.0 {
		t.Errorf("failed Lead = %v", lead)
	}

	status, _, body = do(t, "GET", srv.URL+"/api/objects/lead", nil)
	if status != 200 || !strings.Contains(body, `"object": "Lead"`) {
		t.Errorf("GET /api/objects/lead = %d %s", status, body)
	}
	status, _, body = do(t, "GET", srv.URL+"/api/objects/Nope", nil)
	if status != 404 || !strings.Contains(body, "Nope") {
		t.Errorf("GET unknown object = %d %s", status, body)
	}

	status, _, body = do(t, "GET", srv.URL+"/api/runs?limit=3", nil)
	var runs []map[string]any
	if err := json.Unmarshal([]byte(body), &runs); status != 200 || err != nil || len(runs) != 3 {
		t.Fatalf("GET /api/runs?limit=3 = %d, %v, %d runs", status, err, len(runs))
	}
	if runs[0]["object"] != "Lead" || runs[0]["error"] != hostileError || runs[0]["status"] != "failed" {
		t.Errorf("newest run = %v", runs[0])
	}
	status, _, body = do(t, "GET", srv.URL+"/api/objects/Account/runs", nil)
	if err := json.Unmarshal([]byte(body), &runs); status != 200 || err != nil || len(runs) != 6 {
		t.Errorf("Account's runs = %d, %v, %d runs", status, err, len(runs))
	}
	for _, bad := range []string{"/api/runs?limit=0", "/api/runs?limit=x"} {
		if status, _, _ := do(t, "GET", srv.URL+bad, nil); status != 400 {
			t.Errorf("GET %s = %d, want 400", bad, status)
		}
	}
	if status, _, _ := do(t, "GET", srv.URL+"/api/runs?object=Nope", nil); status != 404 {
		t.Errorf("runs of an unknown object = %d, want 404", status)
	}

	for _, tc := range []struct {
		path string
		want int
	}{
		{"/api/objects/Account/run", 202},
		{"/api/objects/lead/full-refresh", 202},
		{"/api/objects/Account/run?full=true", 202},
		{"/api/objects/Account/run?full=maybe", 400},
		{"/api/objects/Contact/run", 409},
		{"/api/objects/Nope/run", 404},
	} {
		status, _, body := do(t, "POST", srv.URL+tc.path, nil)
		if status != tc.want {
			t.Errorf("POST %s = %d, want %d: %s", tc.path, status, tc.want, body)
		}
	}
	if diff := cmp.Diff([]string{"Account full=false", "Lead full=true", "Account full=true"}, f.triggers); diff != "" {
		t.Errorf("triggers (-want +got):\n%s", diff)
	}
	if status, _, _ := do(t, "GET", srv.URL+"/api/objects/Account/run", nil); status != 405 {
		t.Errorf("GET on a trigger = %d, want 405", status)
	}
}

func TestPage(t *testing.T) {
	srv := serve(t, &fixture{}, "")
	status, header, body := do(t, "GET", srv.URL+"/", nil)
	if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", status, header.Get("Content-Type"))
	}
	if csp := header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("the page may run scripts or be framed: CSP %q", csp)
	}
	for _, want := range []string{
		`<tr data-object="Account" data-state="done" data-outcome="complete">`,
		`<tr data-object="Contact" data-state="extracting" data-outcome="-">`,
		`<tr data-object="Lead" data-state="failed" data-outcome="failed">`,
		"400 of ~1000 records",
		"1m30s", // Account's lag
		`2025-06-01 12:05:00Z (in 5m00s)`,
		`850 of 1000 (85%)`, `class="warn"`,
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; INVALID_FIELD`,
		`action="/objects/Account/run"`,
		`<svg id="chart"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("the page carries an unescaped script")
	}
	if n := strings.Count(body, "<circle "); n != 7 {
		t.Errorf("the chart has %d points, want 7 (one per run)", n)
	}
	// Contact is running: no buttons for it.
	if strings.Contains(body, `action="/objects/Contact/run"`) {
		t.Error("the page offers to run an object that is running")
	}
}

var sampleLine = regexp.MustCompile(`^[a-z_]+(\{[a-z_]+="(?:[^"\\]|\\.)*"(,[a-z_]+="(?:[^"\\]|\\.)*")*\})? -?[0-9.e+Inf]+$`)

func TestMetrics(t *testing.T) {
	srv := serve(t, &fixture{}, "")
	status, header, body := do(t, "GET", srv.URL+"/metrics", nil)
	if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics = %d %s", status, header.Get("Content-Type"))
	}
	samples := map[string]string{}
	typed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			typed[strings.Fields(rest)[0]] = true
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		if !sampleLine.MatchString(line) {
			t.Errorf("not a sample line: %q", line)
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		samples[line[:i]] = line[i+1:]
		name := line[:strings.IndexAny(line+"{", "{ ")]
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if !typed[name] && !typed[base] {
			t.Errorf("sample %s has no # TYPE line before it", name)
		}
	}
	for key, want := range map[string]string{
		`sfsync_records_synced_total{object="Account"}`:                  "1500",
		`sfsync_records_synced_total{object="Contact"}`:                  "0",
		`sfsync_runs_total{object="Account",outcome="complete"}`:         "6",
		`sfsync_runs_total{object="Account",outcome="partial"}`:          "1",
		`sfsync_runs_total{object="Lead",outcome="failed"}`:              "3",
		`sfsync_lag_seconds{object="Account"}`:                           "90",
		`sfsync_rows{object="Account"}`:                                  "2500",
		`sfsync_object_state{object="Lead",state="failed"}`:              "1",
		`sfsync_object_state{object="Lead",state="done"}`:                "0",
		`sfsync_run_duration_seconds_bucket{object="Account",le="1"}`:    "1",
		`sfsync_run_duration_seconds_bucket{object="Account",le="60"}`:   "6",
		`sfsync_run_duration_seconds_bucket{object="Account",le="+Inf"}`: "7",
		`sfsync_run_duration_seconds_sum{object="Account"}`:              "30.5",
		`sfsync_run_duration_seconds_count{object="Account"}`:            "7",
		`sfsync_api_requests_used`:                                       "850",
		`sfsync_api_requests_limit`:                                      "1000",
		`sfsync_api_usage_ratio`:                                         "0.85",
		`sfsync_api_calls_total`:                                         "42",
		`sfsync_api_budget_ratio`:                                        "0.8",
		`sfsync_ready`:                                                   "1",
	} {
		if got, ok := samples[key]; !ok || got != want {
			t.Errorf("%s = %q (present %v), want %s", key, got, ok, want)
		}
	}
	if _, ok := samples[`sfsync_lag_seconds{object="Lead"}`]; ok {
		t.Error("a lag is reported for an object never replicated")
	}
}

func TestEscapeLabel(t *testing.T) {
	if got, want := escapeLabel("a\"b\\c\nd"), `a\"b\\c\nd`; got != want {
		t.Errorf("escapeLabel = %q, want %q", got, want)
	}
}

func TestFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850 * time.Millisecond:          "850ms",
		12 * time.Second:                "12s",
		185 * time.Second:               "3m05s",
		2*time.Hour + 14*time.Minute:    "2h14m",
		76 * time.Hour:                  "3d4h",
		-time.Second:                    "-",
		59*time.Minute + 59*time.Second: "59m59s",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%v) = %q, want %q", d, got, want)
		}
	}
	for v, want := range map[int64]int64{0: 10, 7: 10, 11: 20, 120: 200, 500: 500, 501: 1000, 2500: 5000} {
		if got := niceCeil(v); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", v, got, want)
		}
	}
}

func TestHealthz(t *testing.T) {
	srv := serve(t, &fixture{}, "")
	if status, _, body := do(t, "GET", srv.URL+"/healthz", nil); status != 200 || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q", status, body)
	}
}
