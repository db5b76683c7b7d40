package salesforce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
)

// Test credentials. The secret values are distinctive so a test can search
// logs and errors for them.
const (
	testClientID     = "3MVG9-test-client"
	testClientSecret = "CS-very-secret-4711"
	testUsername     = "integration@acme.example"
	testPassword     = "PW-hunter2-TOKENabc"
	testRefresh      = "RT-refresh-secret-99"
)

// org is a small Salesforce stand-in over real HTTP: a token endpoint that
// issues numbered access tokens, and API routes a test registers. It answers
// with the documented shapes (§2, §3, §4 of the API reference).
type org struct {
	t   *testing.T
	srv *httptest.Server
	mux *http.ServeMux

	mu       sync.Mutex
	logins   int
	token    string   // the currently valid access token
	forms    []string // token request bodies, by grant
	requests []string // API requests as "path?rawquery"
	used     int
	// checkToken, when set, replaces the password-grant check.
	checkToken func(r *http.Request) (status int, body string)
	// instanceURL overrides the instance_url the token endpoint returns.
	instanceURL string
}

func newOrg(t *testing.T) *org {
	t.Helper()
	o := &org{t: t, mux: http.NewServeMux()}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *org) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/services/oauth2/token" {
		o.tokenEndpoint(w, r)
		return
	}
	o.mu.Lock()
	o.used++
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/15000", o.used))
	if r.URL.Path != "/services/data/" {
		o.requests = append(o.requests, r.URL.Path+"?"+r.URL.RawQuery)
	}
	valid := o.token != "" && r.Header.Get("Authorization") == "Bearer "+o.token
	o.mu.Unlock()
	if r.URL.Path != "/services/data/" && !valid {
		writeJSON(w, http.StatusUnauthorized, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`)
		return
	}
	o.mux.ServeHTTP(w, r)
}

func (o *org) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		writeJSON(w, http.StatusBadRequest, `{"error":"invalid_request","error_description":"want a form POST"}`)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, `{"error":"invalid_request"}`)
		return
	}
	o.mu.Lock()
	o.forms = append(o.forms, r.PostForm.Encode())
	check := o.checkToken
	o.mu.Unlock()
	if check != nil {
		if status, body := check(r); status != 0 {
			writeJSON(w, status, body)
			return
		}
	} else if r.PostForm.Get("grant_type") != "password" || r.PostForm.Get("client_id") != testClientID ||
		r.PostForm.Get("client_secret") != testClientSecret || r.PostForm.Get("username") != testUsername ||
		r.PostForm.Get("password") != testPassword {
		writeJSON(w, http.StatusBadRequest, `{"error":"invalid_grant","error_description":"authentication failure"}`)
		return
	}
	o.mu.Lock()
	o.logins++
	o.token = fmt.Sprintf("00DTEST!AQ-token-%d", o.logins)
	resp := map[string]string{
		"access_token": o.token,
		"instance_url": o.srv.URL,
		"id":           "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA",
		"token_type":   "Bearer",
		"issued_at":    "1717171717171",
		"signature":    "c2lnbmF0dXJl",
	}
	if o.instanceURL != "" {
		resp["instance_url"] = o.instanceURL
	}
	o.mu.Unlock()
	b, _ := json.Marshal(resp)
	writeJSON(w, http.StatusOK, string(b))
}

// expire invalidates the current access token, as a session timeout does.
func (o *org) expire() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.token = "expired"
}

func (o *org) loginCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.logins
}

func (o *org) requestLog() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.requests...)
}

// handle registers an API route under /services/data/v62.0.
func (o *org) handle(pattern string, h http.HandlerFunc) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	full := "/services/data/v62.0" + path
	if method != "" {
		full = method + " " + full
	}
	o.mux.HandleFunc(full, h)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// logBuffer is a concurrency-safe sink for slog output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testOptions are password-grant options against o with tiny retry delays
// and debug logging into logs.
func (o *org) options(logs *logBuffer) Options {
	var log *slog.Logger
	if logs != nil {
		log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return Options{
		Credentials: Credentials{
			Method:       AuthPassword,
			LoginURL:     o.srv.URL,
			ClientID:     testClientID,
			ClientSecret: testClientSecret,
			Username:     testUsername,
			Password:     testPassword,
		},
		Retry:  RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond},
		Logger: log,
	}
}

func (o *org) client(logs *logBuffer) *Client {
	o.t.Helper()
	c, err := New(o.options(logs))
	if err != nil {
		o.t.Fatalf("New: %v", err)
	}
	return c
}

// secretsIn reports which test secrets s contains.
func secretsIn(s string, extra ...string) []string {
	var found []string
	for _, sec := range append([]string{testClientSecret, testPassword, testRefresh, "AQ-token-"}, extra...) {
		if strings.Contains(s, sec) {
			found = append(found, sec)
		}
	}
	return found
}

// account is a describe used by query tests.
func testAccount() *sfsync.Object {
	return &sfsync.Object{
		ObjectInfo: sfsync.ObjectInfo{Name: "Account", Queryable: true, Replicateable: true},
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "Name", Type: sfsync.TypeString},
			{Name: "IsDeleted", Type: sfsync.TypeBoolean},
			{Name: "NumberOfEmployees", Type: sfsync.TypeInt, Digits: 8},
			{Name: "AnnualRevenue", Type: sfsync.TypeCurrency, Precision: 18, Scale: 2},
			{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
		},
	}
}
