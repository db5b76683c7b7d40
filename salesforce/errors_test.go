package salesforce

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

// fault is a misbehaviour injected into a handler.
type fault func(w http.ResponseWriter, r *http.Request)

func jsonFault(status int, body string) fault {
	return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, status, body) }
}

func rawFault(status int, ctype, body string) fault {
	return func(w http.ResponseWriter, r *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// hijack takes the connection over and writes raw bytes (possibly none)
// before closing it; reset makes the close an RST.
func hijack(raw string, reset bool) fault {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		_, _ = buf.WriteString(raw)
		_ = buf.Flush()
		if tcp, ok := conn.(*net.TCPConn); ok && reset {
			_ = tcp.SetLinger(0)
		}
		_ = conn.Close()
	}
}

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.String()
}

func TestRetriesTransientFaults(t *testing.T) {
	pa := pagedAccounts{n: 6, per: 3}
	page2 := pa.page(2)
	truncatedGzip := gzipped(page2)
	truncatedGzip = truncatedGzip[:len(truncatedGzip)/2]
	tests := []struct {
		name  string
		fault fault
	}{
		{"503 SERVER_UNAVAILABLE", jsonFault(503, `[{"message":"Server unavailable","errorCode":"SERVER_UNAVAILABLE"}]`)},
		{"500 UNKNOWN_EXCEPTION", jsonFault(500, `[{"message":"An unexpected error occurred","errorCode":"UNKNOWN_EXCEPTION"}]`)},
		{"502 HTML", rawFault(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>")},
		{"503 empty", rawFault(503, "", "")},
		{"429 empty", rawFault(429, "", "")},
		{"420 empty", rawFault(420, "", "")},
		{"concurrent request limit", jsonFault(403, `[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`)},
		{"closed without an answer", hijack("", false)},
		{"connection reset", hijack("", true)},
		{"truncated body", hijack("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "+fmt.Sprint(len(page2))+"\r\n\r\n"+page2[:len(page2)/2], false)},
		{"truncated body without length", hijack("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"+page2[:len(page2)-7], false)},
		{"truncated gzip", hijack("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n"+truncatedGzip, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t)
			var mu sync.Mutex
			faults := 2
			o.handle("GET /query", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, pa.page(1)) })
			o.handle("GET /query/{locator}", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				inject := faults > 0
				faults--
				mu.Unlock()
				if inject {
					tt.fault(w, r)
					return
				}
				writeJSON(w, 200, page2)
			})
			opts := o.options(nil)
			// Fresh connections: net/http must not absorb the fault by
			// retrying on a reused connection itself.
			opts.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			c, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			recs, _, err := collect(t, c, window(false))
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			var want []sfsync.Record
			for i := 1; i <= 6; i++ {
				want = append(want, accountRecord(i))
			}
			if d := cmp.Diff(want, recs); d != "" {
				t.Errorf("records (-want +got):\n%s", d)
			}
			wantPaths := []string{"/query", "/query/01gTEST-loc-2", "/query/01gTEST-loc-2", "/query/01gTEST-loc-2"}
			var got []string
			for _, r := range o.requestLog() {
				got = append(got, strings.TrimPrefix(strings.Split(r, "?")[0], "/services/data/v62.0"))
			}
			if d := cmp.Diff(wantPaths, got); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
			// Login + 2 pages + 2 retries.
			if calls := c.Usage().Calls; calls != 5 {
				t.Errorf("Calls = %d, want 5", calls)
			}
		})
	}
}

func TestRetriesAreBounded(t *testing.T) {
	o := newOrg(t)
	o.handle("GET /limits", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 503, `[{"message":"down","errorCode":"SERVER_UNAVAILABLE"}]`)
	})
	c := o.client(nil)
	_, err := c.Limits(t.Context())
	if err == nil {
		t.Fatal("Limits succeeded")
	}
	if !strings.Contains(err.Error(), "giving up after 4 attempts") || Classify(err) != Retryable {
		t.Errorf("err = %v (class %v), want retryable after 4 attempts", err, Classify(err))
	}
	if errors.Is(err, sfsync.ErrPermanent) {
		t.Errorf("a transient fault is reported as permanent: %v", err)
	}
	if n := len(o.requestLog()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

func TestErrorsNotRetried(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		sentinel  error
		class     Class
		wantIn    []string
		wantField string
	}{
		{
			name: "daily API limit", status: 403,
			body:     `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`,
			sentinel: sfsync.ErrAPILimit, class: APILimit,
			wantIn: []string{"API limit reached: ", "TotalRequests Limit exceeded."},
		},
		{
			name: "invalid locator", status: 400,
			body:     `[{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}]`,
			sentinel: sfsync.ErrInvalidLocator, class: InvalidLocator,
			wantIn: []string{"INVALID_QUERY_LOCATOR"},
		},
		{
			name: "query timeout", status: 400,
			body:     `[{"message":"Your query request was running for too long.","errorCode":"QUERY_TIMEOUT"}]`,
			sentinel: sfsync.ErrQueryTimeout, class: QueryTimeout,
			wantIn: []string{"QUERY_TIMEOUT", "running for too long"},
		},
		{
			name: "invalid field", status: 400,
			body:     `[{"message":"\nSELECT Id, Foo__c FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo__c' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.","errorCode":"INVALID_FIELD"}]`,
			sentinel: sfsync.ErrPermanent, class: Permanent,
			wantIn:    []string{"INVALID_FIELD", "Account.Foo__c", "No such column 'Foo__c'"},
			wantField: "Foo__c",
		},
		{
			name: "malformed query", status: 400,
			body:     `[{"message":"unexpected token: '+'","errorCode":"MALFORMED_QUERY"}]`,
			sentinel: sfsync.ErrPermanent, class: Permanent,
			wantIn: []string{"MALFORMED_QUERY", "on Account"},
		},
		{
			name: "invalid type", status: 400,
			body:     `[{"message":"sObject type 'Account' is not supported.","errorCode":"INVALID_TYPE"}]`,
			sentinel: sfsync.ErrPermanent, class: Permanent,
			wantIn: []string{"INVALID_TYPE", "not supported"},
		},
		{
			name: "not found", status: 404,
			body:     `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`,
			sentinel: sfsync.ErrPermanent, class: Permanent,
			wantIn: []string{"NOT_FOUND", "HTTP 404"},
		},
		{
			name: "api disabled", status: 403,
			body:     `[{"message":"The REST API is not enabled for this Organization.","errorCode":"API_DISABLED_FOR_ORG"}]`,
			sentinel: sfsync.ErrPermanent, class: Permanent,
			wantIn: []string{"API_DISABLED_FOR_ORG"},
		},
		{
			name: "insufficient access", status: 403,
			body:     `[{"message":"insufficient access rights on object id","errorCode":"INSUFFICIENT_ACCESS"}]`,
			sentinel: sfsync.ErrPermanent, class: Permanent,
			wantIn: []string{"INSUFFICIENT_ACCESS"},
		},
		{
			name: "html 400", status: 400, body: `<html>nope</html>`,
			sentinel: sfsync.ErrPermanent, class: Permanent,
			wantIn: []string{"Bad Request", "HTTP 400"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t)
			o.handle("GET /query", func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(tt.body, "<") {
					rawFault(tt.status, "text/html", tt.body)(w, r)
					return
				}
				writeJSON(w, tt.status, tt.body)
			})
			c := o.client(nil)
			_, _, err := collect(t, c, window(false))
			if err == nil {
				t.Fatal("Extract succeeded")
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			for _, s := range []error{sfsync.ErrAPILimit, sfsync.ErrInvalidLocator, sfsync.ErrQueryTimeout, sfsync.ErrPermanent} {
				if s != tt.sentinel && errors.Is(err, s) {
					t.Errorf("error also matches %v", s)
				}
			}
			if got := Classify(err); got != tt.class {
				t.Errorf("Classify = %v, want %v", got, tt.class)
			}
			for _, w := range tt.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("no *APIError in %v", err)
			}
			if apiErr.Object != "Account" || apiErr.Field != tt.wantField || apiErr.StatusCode != tt.status {
				t.Errorf("APIError = %+v", apiErr)
			}
			if n := len(o.requestLog()); n != 1 {
				t.Errorf("%d requests, want 1 (not retried)", n)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, Permanent},
		{"unexpected EOF", fmt.Errorf("read page: %w", io.ErrUnexpectedEOF), Retryable},
		{"connection reset", &transportError{op: "GET /x", err: &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}, Retryable},
		{"timeout", &transportError{op: "GET /x", err: timeoutErr{}}, Retryable},
		{"cancelled", fmt.Errorf("x: %w", context.Canceled), Permanent},
		{"decode", &decodeError{Object: "Account", Field: "X", Err: errors.New("bad")}, Permanent},
		{"malformed json", &syntaxError{pos: 3, msg: "bad"}, Permanent},
		{"session", &APIError{StatusCode: 401, ErrorCode: "INVALID_SESSION_ID"}, Reauthenticate},
		{"401 without code", &APIError{StatusCode: 401}, Reauthenticate},
		{"daily limit", &APIError{StatusCode: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Message: "TotalRequests Limit exceeded."}, APILimit},
		{"concurrency limit", &APIError{StatusCode: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Message: "ConcurrentPerOrgLongTxn Limit exceeded."}, Retryable},
		{"503", &APIError{StatusCode: 503}, Retryable},
		{"406", &APIError{StatusCode: 406}, Retryable},
		{"locator", &APIError{StatusCode: 400, ErrorCode: "INVALID_QUERY_LOCATOR"}, InvalidLocator},
		{"timeout code", &APIError{StatusCode: 400, ErrorCode: "QUERY_TIMEOUT"}, QueryTimeout},
		{"unknown 400", &APIError{StatusCode: 400, ErrorCode: "SOMETHING_NEW"}, Permanent},
		{"token 500", &APIError{StatusCode: 500, ErrorCode: "server_error", oauth: true}, Retryable},
		{"token 401", &APIError{StatusCode: 401, ErrorCode: "invalid_client", oauth: true}, Permanent},
		{"wrapped", fmt.Errorf("extract Account: %w", &APIError{StatusCode: 400, ErrorCode: "QUERY_TIMEOUT"}), QueryTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	c := &Client{retry: RetryPolicy{MaxAttempts: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}}
	tests := []struct {
		attempt  int
		hint     time.Duration
		min, max time.Duration
	}{
		{1, 0, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 0, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 0, 200 * time.Millisecond, 400 * time.Millisecond},
		{9, 0, 500 * time.Millisecond, time.Second},
		{1, 700 * time.Millisecond, 700 * time.Millisecond, 700 * time.Millisecond},
		{1, time.Minute, time.Second, time.Second},
	}
	for _, tt := range tests {
		for range 50 {
			if d := c.backoff(tt.attempt, tt.hint); d < tt.min || d > tt.max {
				t.Fatalf("backoff(%d, %v) = %v, want within [%v, %v]", tt.attempt, tt.hint, d, tt.min, tt.max)
			}
		}
	}
}

func TestLimitInfo(t *testing.T) {
	tests := []struct {
		in        []string
		used, max int64
		ok        bool
	}{
		{[]string{"api-usage=18/5000"}, 18, 5000, true},
		{[]string{"api-usage=17/250; per-app-api-usage=17/250(appName=sample-app)"}, 17, 250, true},
		{[]string{"per-app-api-usage=1/2(appName=x); api-usage=3/4"}, 3, 4, true},
		{[]string{"api-usage= 9/100"}, 9, 100, true},
		{[]string{""}, 0, 0, false},
		{[]string{"api-usage=x/5"}, 0, 0, false},
		{nil, 0, 0, false},
	}
	for _, tt := range tests {
		used, max, ok := parseLimitInfo(tt.in)
		if used != tt.used || max != tt.max || ok != tt.ok {
			t.Errorf("parseLimitInfo(%q) = %d, %d, %v; want %d, %d, %v", tt.in, used, max, ok, tt.used, tt.max, tt.ok)
		}
	}
}

func TestUsageAndNow(t *testing.T) {
	o := newOrg(t)
	serverTime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	o.handle("GET /limits", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", serverTime.Format(http.TimeFormat))
		writeJSON(w, 200, `{}`)
	})
	c := o.client(nil)
	if u := c.Usage(); u != (sfsync.APIUsage{}) {
		t.Errorf("Usage before any call = %+v", u)
	}
	now, err := c.Now(t.Context())
	if err != nil {
		t.Fatalf("Now: %v", err)
	}
	if now.Before(serverTime) || !now.Before(serverTime.Add(time.Minute)) || now.Location() != time.UTC {
		t.Errorf("Now = %v, want the server's %v (plus the time since)", now, serverTime)
	}
	if got := o.requestLog(); len(got) != 1 || !strings.Contains(got[0], "/limits") {
		t.Errorf("Now made %v, want one limits call", got)
	}
	// Now again: no further call.
	if _, err := c.Now(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(o.requestLog()); n != 1 {
		t.Errorf("second Now made a call (%d requests)", n)
	}
	if d := cmp.Diff(sfsync.APIUsage{Used: 1, Max: 15000, Calls: 2}, c.Usage()); d != "" {
		t.Errorf("Usage (-want +got):\n%s", d)
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	o := newOrg(t)
	var mu sync.Mutex
	calls := 0
	o.handle("GET /limits", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		switch n {
		case 1:
			// An edge proxy echoing the request's credentials.
			writeJSON(w, 503, `[{"message":"upstream said `+r.Header.Get("Authorization")+` and `+testPassword+`","errorCode":"SERVER_UNAVAILABLE"}]`)
		case 2:
			o.expire()
			writeJSON(w, 401, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`)
		default:
			writeJSON(w, 400, `[{"message":"bad token `+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")+`","errorCode":"MALFORMED_QUERY"}]`)
		}
	})
	logs := &logBuffer{}
	opts := o.options(logs)
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Limits(t.Context())
	if err == nil {
		t.Fatal("Limits succeeded")
	}
	if !strings.Contains(err.Error(), "bad token [redacted]") {
		t.Errorf("err = %v, want the echoed token redacted", err)
	}
	out := err.Error() + "\n" + logs.String() + fmt.Sprintf("%+v %#v", opts, opts)
	if s := secretsIn(out); len(s) > 0 {
		t.Errorf("secrets %v leaked:\n%s", s, out)
	}
	if !strings.Contains(logs.String(), "retrying") || !strings.Contains(logs.String(), "logging in again") {
		t.Errorf("logs lack the retry and re-login lines:\n%s", logs)
	}
}

func TestNowFromErrorAnswer(t *testing.T) {
	o := newOrg(t)
	serverTime := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	o.handle("GET /limits", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", serverTime.Format(http.TimeFormat))
		writeJSON(w, 403, `[{"message":"insufficient access rights","errorCode":"INSUFFICIENT_ACCESS"}]`)
	})
	c := o.client(nil)
	now, err := c.Now(t.Context())
	if err != nil {
		t.Fatalf("Now: %v", err)
	}
	if now.Before(serverTime) || !now.Before(serverTime.Add(time.Minute)) {
		t.Errorf("Now = %v, want the server's %v", now, serverTime)
	}
}

func TestExtractMisfitNamesRecord(t *testing.T) {
	o := newOrg(t)
	o.handle("GET /query", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"totalSize":2,"done":true,"records":[`+accountJSON(1)+`,{"Id":"001000000000000BAD","NumberOfEmployees":"many"}]}`)
	})
	c := o.client(nil)
	_, _, err := collect(t, c, window(false))
	if err == nil {
		t.Fatal("Extract succeeded")
	}
	for _, w := range []string{"Account", "NumberOfEmployees", "001000000000000BAD"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
	if !errors.Is(err, sfsync.ErrPermanent) {
		t.Errorf("error is not permanent: %v", err)
	}
	if n := len(o.requestLog()); n != 1 {
		t.Errorf("%d requests, want 1 (not retried)", n)
	}
}
