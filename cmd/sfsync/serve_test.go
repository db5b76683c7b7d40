package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sfsync/sfsync/orchestrator"
	"github.com/sfsync/sfsync/sfemu"
	"github.com/sfsync/sfsync/warehouse/duckdb"
)

// serveProc is a running `sfsync serve`.
type serveProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	done chan error

	mu    sync.Mutex
	lines []string // stderr so far
	wake  chan struct{}
}

// startServe starts `sfsync serve` on a free loopback port and waits for
// it to say where it listens.
func startServe(t *testing.T, p *procEnv, env []string, args ...string) *serveProc {
	t.Helper()
	cmd := p.command(t.Context(), append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serveProc{t: t, cmd: cmd, done: make(chan error, 1), wake: make(chan struct{}, 1)}
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			s.mu.Unlock()
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}()
	urls := make(chan string, 1)
	readers.Add(1)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "status page on "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
	}()
	go func() {
		readers.Wait() // the pipes must be drained before Wait
		s.done <- cmd.Wait()
	}()
	select {
	case s.url = <-urls:
	case err := <-s.done:
		t.Fatalf("sfsync serve exited before listening: %v\n%s", err, s.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("sfsync serve did not say where it listens\n%s", s.log())
	}
	return s
}

func (s *serveProc) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// waitLine waits for the nth stderr line containing text; false when the
// process exits first, or when runs lines saying "run finished" appear
// first (the runs ended before that step).
func (s *serveProc) waitLine(text string, nth, runs int) bool {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		s.mu.Lock()
		seen, finished := 0, 0
		for _, l := range s.lines {
			if strings.Contains(l, text) {
				seen++
			}
			if strings.Contains(l, `msg="run finished"`) {
				finished++
			}
		}
		s.mu.Unlock()
		switch {
		case seen >= nth:
			return true
		case finished >= runs:
			return false
		case time.Now().After(deadline):
			s.t.Fatalf("no %dth line with %q within two minutes\n%s", nth, text, s.log())
		}
		select {
		case <-s.wake:
		case err := <-s.done:
			s.done <- err
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends sig and waits for the exit; it reports whether sig ended the
// process (SIGKILL) or it exited with status 0 (SIGTERM).
func (s *serveProc) stop(sig syscall.Signal) (signalled bool, err error) {
	_ = s.cmd.Process.Signal(sig)
	select {
	case err = <-s.done:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		return false, fmt.Errorf("sfsync serve did not stop within a minute of %v", sig)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return true, nil
		}
	}
	return false, err
}

func (s *serveProc) request(method, path, token string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// apiObject is what the test reads of /api/objects.
type apiObject struct {
	Object  string `json:"object"`
	State   string `json:"state"`
	Running bool   `json:"running"`
	Outcome string `json:"last_outcome"`
	Error   string `json:"error"`
	LastRun *struct {
		StartedAt time.Time `json:"started_at"`
	} `json:"last_run"`
}

func (s *serveProc) objects() []apiObject {
	s.t.Helper()
	status, body := s.request("GET", "/api/objects", "")
	if status != 200 {
		s.t.Fatalf("GET /api/objects = %d: %s", status, body)
	}
	var out []apiObject
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		s.t.Fatal(err)
	}
	return out
}

// waitComplete waits until every object finished a complete run that
// started after since and is done (no run pending), and the warehouse is
// closed again.
func (s *serveProc) waitComplete(since time.Time) {
	s.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ok := true
		for _, o := range s.objects() {
			if o.Running || o.State != "done" || o.Outcome != "complete" || o.LastRun == nil || o.LastRun.StartedAt.Before(since) {
				ok = false
			}
		}
		if ok {
			_, body := s.request("GET", "/api/service", "")
			if strings.Contains(body, `"warehouse_open": false`) {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for complete runs: %+v\n%s", s.objects(), s.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// trigger asks for a run of each object; one already due or running is
// fine.
func (s *serveProc) trigger(full bool, objects ...string) {
	s.t.Helper()
	for _, o := range objects {
		path := "/api/objects/" + o + "/run"
		if full {
			path = "/api/objects/" + o + "/full-refresh"
		}
		if status, body := s.request("POST", path, ""); status != http.StatusAccepted && status != http.StatusConflict {
			s.t.Fatalf("POST %s = %d: %s", path, status, body)
		}
	}
}

func (s *serveProc) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if status, _ := s.request("GET", "/healthz", ""); status == 200 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("sfsync serve never became ready\n%s", s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func persistedStatuses(t *testing.T, p *procEnv) map[string]orchestrator.Status {
	t.Helper()
	wh, err := duckdb.Open(t.Context(), duckdb.Options{Path: p.db})
	if err != nil {
		t.Fatalf("open the replica after the server stopped: %v", err)
	}
	defer wh.Close()
	list, err := wh.Service().LoadStatuses(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]orchestrator.Status{}
	for _, s := range list {
		out[s.Object] = s
	}
	return out
}

// TestServeCrashResume stops `sfsync serve` mid-run, by SIGKILL or by
// SIGTERM, at seeded points in extraction, loading and consolidation,
// changes the source, and restarts it: the restart resumes the interrupted
// object from its last committed batch, and one complete run per object
// makes the replica equal the source with nothing duplicated. Between runs
// the server keeps the DuckDB file closed, so the test opens it while the
// server still runs.
func TestServeCrashResume(t *testing.T) {
	p := newProcEnv(t, map[string]int{"Account": 2500, "Contact": 2500, "User": 10}, "serve:\n  schedule: 1h\n")
	objects := []string{"Account", "Contact"}
	trials := []struct {
		phase string
		sig   syscall.Signal
		full  bool
	}{
		{"consolidate", syscall.SIGKILL, false},
		{"extract", syscall.SIGTERM, false},
		{"load", syscall.SIGKILL, true},
		{"consolidate", syscall.SIGTERM, false},
		{"extract", syscall.SIGKILL, false},
	}
	stopped := 0
	for i, tc := range trials {
		rnd := rand.New(rand.NewPCG(uint64(i), 7))
		if i > 0 {
			mutate(t, p.emu, rnd)
		}
		s := startServe(t, p, nil, "--log-level", "debug")
		s.waitReady()
		if i > 0 {
			s.trigger(tc.full, objects...)
		}
		nth := 1 + rnd.IntN(3)
		if tc.phase == "extract" {
			nth = 1 // logged once per window, not per page
		}
		interrupted := false
		if s.waitLine("phase="+tc.phase, nth, len(objects)) {
			time.Sleep(time.Duration(rnd.IntN(2000)) * time.Microsecond)
			signalled, err := s.stop(tc.sig)
			switch {
			case tc.sig == syscall.SIGKILL:
				interrupted = signalled
			case err != nil:
				t.Fatalf("trial %d: SIGTERM: %v\n%s", i, err, s.log())
			default:
				interrupted = strings.Contains(s.log(), "run interrupted")
			}
		} else {
			t.Logf("trial %d: the runs finished before the %dth %s step", i, nth, tc.phase)
		}
		if !interrupted {
			if _, err := s.stop(syscall.SIGTERM); err != nil {
				t.Fatalf("trial %d: stop: %v", i, err)
			}
		} else {
			stopped++
			st := persistedStatuses(t, p)
			found := false
			for _, o := range objects {
				s := st[o]
				if tc.sig == syscall.SIGKILL && s.State.Active() || tc.sig == syscall.SIGTERM && strings.HasPrefix(s.Error, "interrupted while") {
					found = true
				}
			}
			if !found {
				t.Fatalf("trial %d: after %v mid-run the control tables show no interrupted object: %+v", i, tc.sig, st)
			}
		}

		// The restart resumes and converges.
		since := time.Now()
		s = startServe(t, p, nil)
		s.waitReady()
		if interrupted && tc.sig == syscall.SIGKILL && !strings.Contains(s.log(), "resuming an interrupted run") {
			t.Errorf("trial %d: the restart does not say it resumes the killed run\n%s", i, s.log())
		}
		s.trigger(false, objects...)
		s.waitComplete(since)
		p.verifyAll(t, objects...) // the server is running, the file is free
		if signalled, err := s.stop(syscall.SIGTERM); signalled || err != nil {
			t.Fatalf("trial %d: SIGTERM on an idle server: signalled %v, %v\n%s", i, signalled, err, s.log())
		}
	}
	if stopped < 3 {
		t.Errorf("only %d of %d trials stopped the server mid-run", stopped, len(trials))
	}
}

// TestServeRefusesUnauthenticated: off loopback the server needs a token
// and refuses requests without it; the token and credentials never show.
func TestServeRefusesUnauthenticated(t *testing.T) {
	p := newProcEnv(t, map[string]int{"Account": 50, "User": 2}, "serve:\n  listen: 0.0.0.0:0\n  schedule: 1h\n  token: ${SERVE_TOKEN}\n")
	const token = "serve-token-0123456789"

	// Without the token the configuration is refused.
	out, err := p.command(t.Context(), "serve").CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || !strings.Contains(string(out), "SERVE_TOKEN is not set") {
		t.Fatalf("serve without its token: %v\n%s", err, out)
	}
	// Nor may --listen leave loopback without one.
	noToken := newProcEnv(t, map[string]int{"Account": 5, "User": 2}, "")
	out, err = noToken.command(t.Context(), "serve", "--listen", "0.0.0.0:0").CombinedOutput()
	if !errors.As(err, &exitErr) || !strings.Contains(string(out), "not a loopback address: set serve.token") {
		t.Fatalf("serve --listen 0.0.0.0:0 without a token: %v\n%s", err, out)
	}

	cmd := p.command(t.Context(), "serve")
	cmd.Env = append(cmd.Env, "SERVE_TOKEN="+token)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	_, rest, _ := strings.Cut(line, "status page on http://")
	hostPort := strings.Fields(rest)[0]
	port := hostPort[strings.LastIndexByte(hostPort, ':')+1:]
	if strings.HasPrefix(hostPort, "127.") {
		t.Fatalf("the server listens on %s, want every interface", hostPort)
	}
	s := &serveProc{t: t, cmd: cmd, url: "http://127.0.0.1:" + port}
	for _, tc := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/", "", 401},
		{"GET", "/api/objects", "", 401},
		{"GET", "/api/runs", "", 401},
		{"POST", "/api/objects/Account/run", "", 401},
		{"GET", "/metrics", "", 401},
		{"GET", "/api/objects", "wrong-token-0123456789", 401},
		{"GET", "/healthz", "", 200},
		{"GET", "/api/objects", token, 200},
		{"GET", "/metrics", token, 200},
		{"GET", "/", token, 200},
	} {
		var status int
		var body string
		for range 100 { // /healthz is 503 until the state is loaded
			status, body = s.request(tc.method, tc.path, tc.token)
			if status != http.StatusServiceUnavailable {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if status != tc.want {
			t.Errorf("%s %s (token %v) = %d, want %d: %s", tc.method, tc.path, tc.token != "", status, tc.want, body)
		}
		for _, secret := range []string{token, "emulator-secret", "emulator-password"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s %s shows a secret", tc.method, tc.path)
			}
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
}

// TestServeSIGTERMAbortsBulkJobs: a server stopped by SIGTERM while a Bulk
// API 2.0 query job is in progress aborts and deletes the job before it
// exits, so nothing is left counting against the org's allowance, and the
// object resumes on the next start.
func TestServeSIGTERMAbortsBulkJobs(t *testing.T) {
	p := newProcEnv(t, map[string]int{"Account": 600, "User": 2}, "  bulk_threshold: 100\nserve:\n  schedule: 1h\n")
	p.emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultJobStuck, Route: "bulkcreate", Times: -1})
	s := startServe(t, p, nil)
	deadline := time.Now().Add(time.Minute)
	for len(p.emu.BulkJobs()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the server created no Bulk job within a minute\n%s", s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if signalled, err := s.stop(syscall.SIGTERM); signalled || err != nil {
		t.Fatalf("SIGTERM mid-job: signalled %v, %v\n%s", signalled, err, s.log())
	}
	if jobs := p.emu.BulkJobs(); len(jobs) != 0 {
		t.Fatalf("jobs left behind after SIGTERM: %+v\n%s", jobs, s.log())
	}
	st := persistedStatuses(t, p)["Account"]
	if !strings.HasPrefix(st.Error, "interrupted while") {
		t.Fatalf("Account's status after SIGTERM = %+v, want it recorded as interrupted", st)
	}

	// Without the fault the next start completes the object.
	p.emu.ClearFaults()
	since := time.Now()
	s = startServe(t, p, nil)
	s.waitReady()
	s.trigger(false, "Account")
	s.waitComplete(since)
	p.verifyAll(t, "Account")
	if jobs := p.emu.BulkJobs(); len(jobs) != 0 {
		t.Errorf("jobs left behind after a complete run: %+v", jobs)
	}
	if _, err := s.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}
