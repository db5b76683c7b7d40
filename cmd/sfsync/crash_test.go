package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/sfemu"
	"github.com/sfsync/sfsync/verify"
	"github.com/sfsync/sfsync/warehouse/duckdb"
)

// sfsyncBin is the binary the process tests run, built once by TestMain.
var sfsyncBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sfsync-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sfsyncBin = filepath.Join(dir, "sfsync")
	out, err := exec.Command("go", "build", "-o", sfsyncBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build sfsync: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// procEnv is an emulator over HTTP plus a config file for the binary.
type procEnv struct {
	emu    *sfemu.Server
	srv    *httptest.Server
	dir    string
	config string
	db     string
}

func newProcEnv(t *testing.T, records map[string]int, extra string) *procEnv {
	t.Helper()
	emu, err := sfemu.New(sfemu.Options{Seed: 42, Records: records})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	p := &procEnv{emu: emu, srv: srv, dir: dir, config: filepath.Join(dir, "sfsync.yaml"), db: filepath.Join(dir, "replica.duckdb")}
	var objects []string
	for name := range records {
		if name != "User" {
			objects = append(objects, "  - "+name)
		}
	}
	sort.Strings(objects)
	cfg := fmt.Sprintf(`salesforce:
  login_url: %s
  auth: password
  client_id: sfsync-emulator
  client_secret: ${EMU_SECRET}
  username: admin@emulator.example
  password: ${EMU_PASSWORD}
warehouse:
  path: %s
sync:
  lookback: 5m
  batch_rows: 400
  page_size: 200
%sobjects:
%s
`, srv.URL, p.db, extra, strings.Join(objects, "\n"))
	if err := os.WriteFile(p.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *procEnv) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, sfsyncBin, append([]string{"--config", p.config}, args...)...)
	cmd.Env = append(os.Environ(), "EMU_SECRET=emulator-secret", "EMU_PASSWORD=emulator-password")
	return cmd
}

// verifyAll opens the replica (no run may be active) and compares every
// object with the emulator's truth.
func (p *procEnv) verifyAll(t *testing.T, objects ...string) {
	t.Helper()
	ctx := t.Context()
	wh, err := duckdb.Open(ctx, duckdb.Options{Path: p.db})
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	src, err := salesforce.New(salesforce.Options{Credentials: salesforce.Credentials{
		Method: "password", LoginURL: p.srv.URL, ClientID: "sfsync-emulator",
		ClientSecret: sfsync.Secret("emulator-secret"), Username: "admin@emulator.example", Password: sfsync.Secret("emulator-password"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objects {
		obj, err := src.Describe(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Compare(ctx, wh.DB(), o, p.emu.Truth(o), verify.Options{Schema: "salesforce", Fields: obj.ReplicatedFields(nil, nil)})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Compared == 0 {
			t.Fatalf("after a clean run the replica differs from the source:\n%s", rep)
		}
	}
}

// mutate makes a seeded round of source changes.
func mutate(t *testing.T, emu *sfemu.Server, rnd *rand.Rand) {
	t.Helper()
	for _, o := range []string{"Account", "Contact"} {
		if _, err := emu.UpdateRandom(o, 150+rnd.IntN(300), rnd); err != nil {
			t.Fatal(err)
		}
		live := sortedNames(emu.Truth(o))
		for range 1 + rnd.IntN(5) {
			if err := emu.Delete(o, live[rnd.IntN(len(live))]); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 1 + rnd.IntN(5) {
			if _, err := emu.Create(o, map[string]any{nameField(o): fmt.Sprintf("new %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func nameField(object string) string {
	if object == "Contact" || object == "Lead" {
		return "LastName"
	}
	return "Name"
}

// TestKillNineConverges kills `sfsync run` with SIGKILL at seeded points
// during extract, load and consolidate, then checks that one clean run
// makes the replica equal the source with no duplicate Ids.
func TestKillNineConverges(t *testing.T) {
	p := newProcEnv(t, map[string]int{"Account": 2500, "Contact": 2500, "User": 10}, "")
	phases := []string{"extract", "load", "consolidate"}
	killed := map[string]int{}
	const trials = 21
	for trial := range trials {
		rnd := rand.New(rand.NewPCG(uint64(trial), 99))
		if trial > 0 {
			mutate(t, p.emu, rnd)
		}
		phase := phases[trial%len(phases)]
		nth := 1 + rnd.IntN(6)
		delay := time.Duration(rnd.IntN(3000)) * time.Microsecond
		if ok := killAt(t, p, phase, nth, delay); ok {
			killed[phase]++
		}
		// A clean run converges.
		out, err := p.command(t.Context(), "run", "--log-level", "warn", "--progress", "none").CombinedOutput()
		if err != nil {
			t.Fatalf("trial %d: clean run after kill: %v\n%s", trial, err, out)
		}
		p.verifyAll(t, "Account", "Contact")
	}
	for _, ph := range phases {
		if killed[ph] == 0 {
			t.Errorf("no trial killed the run during %s: %v", ph, killed)
		}
	}
	t.Logf("kills by phase: %v", killed)
}

// killAt starts a run and SIGKILLs it right after its nth log line of the
// phase, plus delay. It reports whether the process was killed (rather
// than finishing first).
func killAt(t *testing.T, p *procEnv, phase string, nth int, delay time.Duration) bool {
	t.Helper()
	cmd := p.command(t.Context(), "run", "--log-level", "debug", "--progress", "none")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	seen, killed := 0, false
	for sc.Scan() {
		if !killed && strings.Contains(sc.Text(), "phase="+phase) {
			seen++
			if seen == nth {
				time.Sleep(delay)
				killed = cmd.Process.Signal(syscall.SIGKILL) == nil
			}
		}
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if killed && errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return true
		}
	}
	return false
}

// TestSecondRunIsRefused: only one run per warehouse at a time; a second
// one exits with a clear message, or waits when asked.
func TestSecondRunIsRefused(t *testing.T) {
	p := newProcEnv(t, map[string]int{"Account": 2000, "User": 5}, "")
	p.emu.InjectFault(sfemu.Fault{Kind: "slow", Route: "querymore", Delay: 300 * time.Millisecond, Times: -1})
	first := p.command(t.Context(), "run", "--progress", "none", "--log-level", "warn")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	out, err := p.command(t.Context(), "run", "--progress", "none").CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitBusy {
		t.Fatalf("second run: err %v, want exit code %d\n%s", err, exitBusy, out)
	}
	if !strings.Contains(string(out), "another sfsync run") {
		t.Errorf("second run's message does not say why: %s", out)
	}
	waiter := p.command(t.Context(), "run", "--progress", "none", "--wait", "--log-level", "warn")
	waitOut := make(chan []byte, 1)
	waitErr := make(chan error, 1)
	go func() {
		out, err := waiter.CombinedOutput()
		waitOut <- out
		waitErr <- err
	}()
	if err := first.Wait(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	p.emu.ClearFaults()
	if err := <-waitErr; err != nil {
		t.Fatalf("waiting run: %v\n%s", err, <-waitOut)
	}
	p.verifyAll(t, "Account")
}
