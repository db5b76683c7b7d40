package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sfsync/sfsync/sfemu"
)

// offsetClock is the wall clock moved by an adjustable offset.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// newProcEnvClock is newProcEnv with an emulator on clock (nil: the real
// time) behind wrap (nil: none): the org is built again that way and the
// configuration pointed at it.
func newProcEnvClock(t *testing.T, records map[string]int, extra string, clock sfemu.Clock, wrap func(http.Handler) http.Handler) *procEnv {
	t.Helper()
	p := newProcEnv(t, records, extra)
	emu, err := sfemu.New(sfemu.Options{Seed: 42, Records: records, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg, err := os.ReadFile(p.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.config, []byte(strings.ReplaceAll(string(cfg), p.srv.URL, srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	p.srv.Close()
	p.emu, p.srv = emu, srv
	return p
}

// TestRunKilledMidJobLeavesNoJob: `sfsync run` killed with SIGKILL while
// its Bulk job is stuck in progress cannot clean up; the next run, once
// the job is older than the job timeout (2h), aborts and deletes it, and
// leaves no job of its own behind.
func TestRunKilledMidJobLeavesNoJob(t *testing.T) {
	clock := &offsetClock{}
	p := newProcEnvClock(t, map[string]int{"Account": 600, "User": 2}, "  bulk_threshold: 100\n", clock, nil)
	p.emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultJobStuck, Route: "bulkcreate", Times: -1})
	cmd := p.command(t.Context(), "run", "--progress", "none", "--log-level", "warn")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		jobs := p.emu.BulkJobs()
		if len(jobs) > 0 && jobs[0].State == "InProgress" {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("the run had no Bulk job in progress within a minute: %+v\n%s", jobs, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || !exitErr.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatalf("the run was not killed: %v\n%s", err, out.String())
	}
	left := p.emu.BulkJobs()
	if len(left) == 0 {
		t.Fatal("the killed run left no job behind; the test proves nothing")
	}

	p.emu.ClearFaults()
	clock.offset.Add(int64(3 * time.Hour))
	run, err := p.command(t.Context(), "run", "--progress", "none", "--log-level", "info").CombinedOutput()
	if err != nil {
		t.Fatalf("clean run: %v\n%s", err, run)
	}
	if jobs := p.emu.BulkJobs(); len(jobs) != 0 {
		t.Fatalf("jobs left after the clean run: %+v (the killed run left %+v)\n%s", jobs, left, run)
	}
	if !strings.Contains(string(run), "deleted Bulk jobs an earlier run left behind") {
		t.Errorf("the clean run does not say it cleaned up:\n%s", run)
	}
	p.verifyAll(t, "Account")
}

// TestRunBulkResultStreams: sync.bulk_result_streams reaches the client:
// above 1 a Bulk job's results are listed through resultPages and fetched
// in parallel; at the default (1) they are read one page after the other.
func TestRunBulkResultStreams(t *testing.T) {
	for _, tc := range []struct {
		extra     string
		wantLists bool
	}{
		{"", false},
		{"  bulk_result_streams: 3\n", true},
	} {
		var lists, results atomic.Int64
		count := func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case strings.HasSuffix(r.URL.Path, "/resultPages"):
					lists.Add(1)
				case strings.HasSuffix(r.URL.Path, "/results"):
					results.Add(1)
				}
				h.ServeHTTP(w, r)
			})
		}
		p := newProcEnvClock(t, map[string]int{"Account": 600, "User": 2}, "  bulk_threshold: 100\n"+tc.extra, nil, count)
		out, err := p.command(t.Context(), "run", "--progress", "none", "--log-level", "warn").CombinedOutput()
		if err != nil {
			t.Fatalf("run with %q: %v\n%s", tc.extra, err, out)
		}
		if (lists.Load() > 0) != tc.wantLists || results.Load() == 0 {
			t.Errorf("run with %q: %d resultPages and %d results requests; want resultPages %v", tc.extra, lists.Load(), results.Load(), tc.wantLists)
		}
		p.verifyAll(t, "Account")
	}
}
