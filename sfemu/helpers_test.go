package sfemu

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// org is an emulator behind a real HTTP server, with a token.
type org struct {
	t     *testing.T
	emu   *Server
	clock *testClock
	url   string
	token string
}

// newOrg starts an emulator with opts (a test clock unless opts has one)
// and logs in with the password grant.
func newOrg(t *testing.T, opts Options) *org {
	t.Helper()
	clock := newTestClock()
	if opts.Clock == nil {
		opts.Clock = clock
	}
	emu, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	o := &org{t: t, emu: emu, clock: clock, url: srv.URL}
	o.token = o.login()
	return o
}

func (o *org) login() string {
	o.t.Helper()
	resp := o.postForm("/services/oauth2/token", url.Values{
		"grant_type": {"password"}, "client_id": {defaultClientID}, "client_secret": {defaultClientSecret},
		"username": {o.emu.opts.Username}, "password": {o.emu.opts.Password},
	}, nil)
	var tok tokenResponse
	decode(o.t, resp, http.StatusOK, &tok)
	return tok.AccessToken
}

func (o *org) postForm(path string, form url.Values, header http.Header) *http.Response {
	o.t.Helper()
	req, err := http.NewRequestWithContext(o.t.Context(), http.MethodPost, o.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		o.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

// get sends an authenticated GET of path (which may carry a query).
func (o *org) get(path string, header ...string) *http.Response {
	o.t.Helper()
	req, err := http.NewRequestWithContext(o.t.Context(), http.MethodGet, o.url+path, nil)
	if err != nil {
		o.t.Fatal(err)
	}
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

// queryPath is the path of a first query page.
func queryPath(endpoint, soql string) string {
	return "/services/data/v62.0/" + endpoint + "?q=" + url.QueryEscape(soql)
}

// decode checks the status and decodes the JSON body into v (unless nil).
func decode(t *testing.T, resp *http.Response, status int, v any) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
	if v == nil {
		return
	}
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

// wantError checks a REST error response.
func wantError(t *testing.T, resp *http.Response, status int, code string) string {
	t.Helper()
	var errs []apiError
	decode(t, resp, status, &errs)
	if len(errs) != 1 || errs[0].ErrorCode != code {
		t.Fatalf("errors %+v, want one %s", errs, code)
	}
	return errs[0].Message
}

// queryResult is a query page.
type queryResult struct {
	TotalSize      int              `json:"totalSize"`
	Done           bool             `json:"done"`
	NextRecordsURL string           `json:"nextRecordsUrl"`
	Records        []map[string]any `json:"records"`
}

// queryAllPages follows nextRecordsUrl to the end and returns the pages.
func (o *org) queryAllPages(endpoint, soql string, header ...string) []queryResult {
	o.t.Helper()
	var pages []queryResult
	path := queryPath(endpoint, soql)
	for path != "" {
		var page queryResult
		decode(o.t, o.get(path, header...), http.StatusOK, &page)
		pages = append(pages, page)
		path = page.NextRecordsURL
		if page.Done != (path == "") {
			o.t.Fatalf("page done=%v with nextRecordsUrl %q", page.Done, path)
		}
	}
	return pages
}

// ids lists the Ids of records, in order.
func ids(recs []map[string]any) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r["Id"].(string))
	}
	return out
}

func mustCreate(t *testing.T, emu *Server, object string, fields map[string]any) string {
	t.Helper()
	id, err := emu.Create(object, fields)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return id
}
