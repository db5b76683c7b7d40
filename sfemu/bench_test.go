package sfemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkQueryPages serves a replication-style query (every stored
// Account field, a SystemModstamp window, ORDER BY SystemModstamp, Id) in
// 2000-record pages over HTTP and reports records per second.
func BenchmarkQueryPages(b *testing.B) {
	const records = 100_000
	clock := newTestClock()
	emu, err := New(Options{Seed: 1, Clock: clock, Records: map[string]int{"Account": records}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {defaultClientID}, "client_secret": {defaultClientSecret}})
	if err != nil {
		b.Fatal(err)
	}
	var tok tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	def, _ := emu.Describe("Account")
	var names []string
	for _, f := range def.Fields {
		if f.Type != "address" && f.Type != "location" {
			names = append(names, f.Name)
		}
	}
	soql := fmt.Sprintf("SELECT %s FROM Account WHERE SystemModstamp >= %s AND SystemModstamp < %s ORDER BY SystemModstamp, Id",
		strings.Join(names, ", "), clock.Now().Add(-100*24*time.Hour).Format("2006-01-02T15:04:05Z"),
		clock.Now().Format("2006-01-02T15:04:05Z"))
	client := &http.Client{}
	get := func(path string) []byte {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d: %v", resp.StatusCode, err)
		}
		return body
	}
	served := 0
	b.ResetTimer()
	for b.Loop() {
		path := "/services/data/v62.0/query?q=" + url.QueryEscape(soql)
		for path != "" {
			// The client side only finds the next page, so the benchmark
			// measures the server rather than a JSON decoder.
			body := get(path)
			served += bytes.Count(body, []byte(`{"attributes":`))
			path = ""
			if i := bytes.Index(body, []byte(`"nextRecordsUrl":"`)); i >= 0 {
				rest := body[i+len(`"nextRecordsUrl":"`):]
				path = string(rest[:bytes.IndexByte(rest, '"')])
			}
		}
	}
	b.ReportMetric(float64(served)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkGenerate builds an org of a million Accounts and reports the
// heap it holds.
func BenchmarkGenerate(b *testing.B) {
	var heap uint64
	for b.Loop() {
		emu, err := New(Options{Seed: 1, Clock: newTestClock(), Records: map[string]int{"Account": 1_000_000}})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = ms.HeapAlloc
		runtime.KeepAlive(emu)
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}
