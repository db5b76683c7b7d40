package sfemu

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFaultKinds(t *testing.T) {
	soql := "SELECT Id FROM Account"
	tests := []struct {
		kind   FaultKind
		route  string
		status int
		code   string // REST error code; "" for none
	}{
		{FaultUnavailable, "query", http.StatusServiceUnavailable, "SERVER_UNAVAILABLE"},
		{FaultLimit, "", http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED"},
		{FaultSession, "describe", http.StatusUnauthorized, "INVALID_SESSION_ID"},
		{FaultLocator, "querymore", http.StatusBadRequest, "INVALID_QUERY_LOCATOR"},
		{FaultTimeout, "query", http.StatusBadRequest, "QUERY_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			o := newOrg(t, Options{Records: map[string]int{"Account": 300}})
			var first queryResult
			path := queryPath("query", soql)
			switch tt.route {
			case "querymore":
				decode(t, o.get(path, "Sforce-Query-Options", "batchSize=200"), http.StatusOK, &first)
				path = first.NextRecordsURL
			case "describe":
				path = "/services/data/v62.0/sobjects/Account/describe"
			}
			o.emu.InjectFault(Fault{Kind: tt.kind, Route: tt.route})
			resp := o.get(path)
			if !strings.HasPrefix(resp.Header.Get("Sforce-Limit-Info"), "api-usage=") {
				t.Errorf("faulted response lacks Sforce-Limit-Info")
			}
			wantError(t, resp, tt.status, tt.code)
			decode(t, o.get(path), http.StatusOK, nil) // once only
		})
	}
}

func TestFaultHTML(t *testing.T) {
	o := newOrg(t, Options{})
	o.emu.InjectFault(Fault{Kind: FaultHTML500, Route: "sobjects", Times: 2})
	for _, want := range []int{http.StatusBadGateway, http.StatusServiceUnavailable} {
		resp := o.get("/services/data/v62.0/sobjects")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "<html>") {
			t.Errorf("status %d, content type %q, body %q; want %d with HTML", resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
		}
	}
	decode(t, o.get("/services/data/v62.0/sobjects"), http.StatusOK, nil)
}

func TestFaultReset(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 50}})
	o.emu.InjectFault(Fault{Kind: FaultReset, Route: "query"})
	resp := o.get(queryPath("query", "SELECT Id, Name FROM Account"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200 before the break", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading the body: %v after %d bytes, want an unexpected EOF", err, len(body))
	}
	if len(body) == 0 || !strings.HasPrefix(string(body), `{"totalSize":50`) {
		t.Errorf("partial body %q", body)
	}
	var r queryResult
	decode(t, o.get(queryPath("query", "SELECT Id, Name FROM Account")), http.StatusOK, &r)
	if len(r.Records) != 50 {
		t.Errorf("retry returned %d records", len(r.Records))
	}
}

func TestFaultSlow(t *testing.T) {
	o := newOrg(t, Options{})
	o.emu.InjectFault(Fault{Kind: FaultSlow, Route: "limits", Delay: 20 * time.Millisecond})
	decode(t, o.get("/services/data/v62.0/limits"), http.StatusOK, nil)

	// A client that gives up does not get an answer.
	o.emu.InjectFault(Fault{Kind: FaultSlow, Route: "limits", Delay: 30 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.url+"/services/data/v62.0/limits", nil)
	req.Header.Set("Authorization", "Bearer "+o.token)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a request slowed by 30s answered within 50ms")
	}
}

func TestFaultScheduling(t *testing.T) {
	o := newOrg(t, Options{})
	path := "/services/data/v62.0/limits"
	o.emu.InjectFault(Fault{Kind: FaultUnavailable, Route: "limits", After: 2, Times: 2})
	var got []int
	for i := 0; i < 5; i++ {
		resp := o.get(path)
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	want := []int{200, 200, 503, 503, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
	if n := o.emu.RequestCount(); n != 3 {
		t.Errorf("RequestCount %d, want 3: faulted requests are not counted", n)
	}

	o.emu.InjectFault(Fault{Kind: FaultUnavailable, Times: -1})
	for i := 0; i < 3; i++ {
		wantError(t, o.get("/services/data/v62.0/sobjects"), http.StatusServiceUnavailable, "SERVER_UNAVAILABLE")
	}
	// An empty route matches API requests only, not the token endpoint.
	o.token = o.login()
	o.emu.ClearFaults()
	decode(t, o.get(path), http.StatusOK, nil)

	o.emu.InjectFault(Fault{Kind: FaultUnavailable, Route: "token"})
	resp := o.postForm("/services/oauth2/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {defaultClientID}, "client_secret": {defaultClientSecret}}, nil)
	wantError(t, resp, http.StatusServiceUnavailable, "SERVER_UNAVAILABLE")

	o.emu.InjectFault(Fault{Kind: "bogus"})
	decode(t, o.get(path), http.StatusOK, nil)
}
