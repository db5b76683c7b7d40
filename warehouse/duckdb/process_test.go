package duckdb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

// The test binary doubles as a second process: with SFSYNC_DUCKDB_HELPER
// set it runs one helper scenario against SFSYNC_DUCKDB_PATH instead of
// the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("SFSYNC_DUCKDB_HELPER"); mode != "" {
		if err := helper(mode, os.Getenv("SFSYNC_DUCKDB_PATH")); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helper runs a scenario. "hold-*" scenarios print "ready" once set up
// and hold on until stdin closes; "crash-*" scenarios end the process
// abruptly (exit status 2) at the named point, as a crash or kill would.
func helper(mode, path string) error {
	ctx := context.Background()
	ready := func() {
		fmt.Println("ready")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until EOF
	}
	switch mode {
	case "hold-lock":
		release, _, err := lockPath(path + ".lock")
		if err != nil || release == nil {
			return fmt.Errorf("lock: %v", err)
		}
		ready()
		release()
		return nil
	case "hold-db":
		w, err := Open(ctx, Options{Path: path})
		if err != nil {
			return err
		}
		defer w.Close()
		ready()
		return nil
	}

	w, err := Open(ctx, Options{Path: path})
	if err != nil {
		return err
	}
	tbl := crashTable()
	b := sfsync.Batch{ID: "crash-batch", RunID: "crash-run", Object: tbl.Object, ExtractedAt: time.Now()}
	s, err := w.Stage(ctx, tbl, b)
	if err != nil {
		return err
	}
	if err := s.Write(ctx, []sfsync.Record{{"r1", "changed", crashAt(2)}, {"r9", "new", crashAt(2)}}); err != nil {
		return err
	}
	if mode == "crash-staging" {
		os.Exit(2) // staged, never closed
	}
	if err := s.Close(ctx); err != nil {
		return err
	}
	if mode == "crash-closed" {
		os.Exit(2) // closed, never consolidated
	}
	step := strings.TrimPrefix(mode, "crash-consolidate-")
	w.failAt = func(s string) error {
		if s == step {
			os.Exit(2) // in the middle of the transaction
		}
		return nil
	}
	_, err = w.Consolidate(ctx, tbl, sfsync.Consolidation{Batch: b, Mode: sfsync.DeleteSoft, Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: crashAt(2)}})
	if err != nil {
		return err
	}
	if step == "none" {
		os.Exit(2) // committed, then killed before closing anything
	}
	return fmt.Errorf("no step %q", step)
}

func crashTable() sfsync.Table {
	return sfsync.Table{
		Object: "Crash__c",
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "Name", Type: sfsync.TypeString},
			{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
		},
		CursorField: "SystemModstamp",
	}
}

func crashAt(n int) time.Time { return time.Date(2024, 1, 1, n, 0, 0, 0, time.UTC) }

// process is a running helper.
type process struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
}

// startHelper starts a helper scenario and, for hold-* scenarios, waits
// until it is ready.
func startHelper(t *testing.T, mode, path string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SFSYNC_DUCKDB_HELPER="+mode, "SFSYNC_DUCKDB_PATH="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { p.stop() })
	if strings.HasPrefix(mode, "hold-") {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			t.Fatalf("helper %s did not get ready: %q %v", mode, line, err)
		}
	}
	return p
}

// stop lets the helper finish and returns its exit code.
func (p *process) stop() int {
	p.stdin.Close()
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestOpenBusyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.duckdb")
	p := startHelper(t, "hold-db", path)
	_, err := Open(t.Context(), Options{Path: path})
	if !errors.Is(err, sfsync.ErrBusy) {
		t.Fatalf("Open of a file another process holds: got %v, want ErrBusy", err)
	}
	for _, want := range []string{path, strconv.Itoa(p.cmd.Process.Pid), "stop that process"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("busy error %q does not mention %q", err, want)
		}
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("helper exit code %d", code)
	}
	w, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatalf("Open after the other process ended: %v", err)
	}
	w.Close()
}

func TestLockAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.duckdb")
	w, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p := startHelper(t, "hold-lock", path)
	_, err = w.Lock(t.Context(), false)
	if !errors.Is(err, sfsync.ErrBusy) {
		t.Fatalf("Lock held by another process: got %v, want ErrBusy", err)
	}
	for _, want := range []string{path + ".lock", "process " + strconv.Itoa(p.cmd.Process.Pid)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("busy error %q does not mention %q", err, want)
		}
	}
	got := make(chan error, 1)
	go func() {
		release, err := w.Lock(t.Context(), true)
		if err == nil {
			release()
		}
		got <- err
	}()
	if code := p.stop(); code != 0 {
		t.Fatalf("helper exit code %d", code)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiting Lock after the other process ended: %v", err)
	}
	pid, err := os.ReadFile(path + ".lock")
	if err != nil || strings.TrimSpace(string(pid)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q (%v), want this process's pid", pid, err)
	}
}

// TestCrash kills a process at each point of a batch's life and checks
// that the reopened warehouse lost nothing committed and holds nothing
// uncommitted.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts several processes")
	}
	before := []map[string]any{
		{"Id": "r1", "Name": "original", "SystemModstamp": crashAt(1), sfsync.ColDeleted: false, sfsync.ColDeletedAt: nil},
	}
	after := []map[string]any{
		{"Id": "r1", "Name": "changed", "SystemModstamp": crashAt(2), sfsync.ColDeleted: false, sfsync.ColDeletedAt: nil},
		{"Id": "r9", "Name": "new", "SystemModstamp": crashAt(2), sfsync.ColDeleted: false, sfsync.ColDeletedAt: nil},
	}
	tests := []struct {
		mode       string
		want       []map[string]any
		wantCursor time.Time
		staged     map[string]int64 // staged rows after the crash, by batch
	}{
		{"crash-staging", before, crashAt(1), map[string]int64{"seed": 1}},
		{"crash-closed", before, crashAt(1), map[string]int64{"seed": 1, "crash-batch": 2}},
		{"crash-consolidate-work", before, crashAt(1), map[string]int64{"seed": 1, "crash-batch": 2}},
		{"crash-consolidate-upsert-delete", before, crashAt(1), map[string]int64{"seed": 1, "crash-batch": 2}},
		{"crash-consolidate-upsert-insert", before, crashAt(1), map[string]int64{"seed": 1, "crash-batch": 2}},
		{"crash-consolidate-mark-batch", before, crashAt(1), map[string]int64{"seed": 1, "crash-batch": 2}},
		{"crash-consolidate-commit", before, crashAt(1), map[string]int64{"seed": 1, "crash-batch": 2}},
		{"crash-consolidate-none", after, crashAt(2), map[string]int64{"seed": 1, "crash-batch": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "crash.duckdb")
			w, err := Open(ctx, Options{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			tbl := crashTable()
			if err := w.Setup(ctx); err != nil {
				t.Fatal(err)
			}
			if err := w.EnsureTable(ctx, tbl); err != nil {
				t.Fatal(err)
			}
			seed := sfsync.Batch{ID: "seed", RunID: "seed", Object: tbl.Object, ExtractedAt: time.Now()}
			stageRecords(t, w, tbl, seed, sfsync.Record{"r1", "original", crashAt(1)})
			if _, err := w.Consolidate(ctx, tbl, sfsync.Consolidation{Batch: seed, Mode: sfsync.DeleteSoft, Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: crashAt(1)}}); err != nil {
				t.Fatal(err)
			}
			w.Close()

			if code := startHelper(t, tt.mode, path).stop(); code != 2 {
				t.Fatalf("helper exit code %d, want 2 (crashed where intended)", code)
			}

			w, err = Open(ctx, Options{Path: path})
			if err != nil {
				t.Fatalf("reopen after the crash: %v", err)
			}
			defer w.Close()
			rows, err := w.Rows(ctx, tbl.Object)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				delete(r, sfsync.ColSyncedAt)
			}
			if diff := cmp.Diff(tt.want, rows); diff != "" {
				t.Errorf("final rows after the crash (-want +got):\n%s", diff)
			}
			st, err := w.State(ctx, tbl.Object)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Cursor.Time.Equal(tt.wantCursor) {
				t.Errorf("cursor after the crash: %v, want %v", st.Cursor.Time, tt.wantCursor)
			}
			staged, err := w.StagedRows(ctx, tbl.Object)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.staged, staged); diff != "" {
				t.Errorf("staged rows after the crash (-want +got):\n%s", diff)
			}
			// The next run cleans up and replicates on.
			if err := w.CleanStaging(ctx, tbl.Object, time.Hour); err != nil {
				t.Fatal(err)
			}
			next := sfsync.Batch{ID: "next", RunID: "next", Object: tbl.Object, ExtractedAt: time.Now()}
			stageRecords(t, w, tbl, next, sfsync.Record{"r1", "changed", crashAt(2)}, sfsync.Record{"r9", "new", crashAt(2)})
			if _, err := w.Consolidate(ctx, tbl, sfsync.Consolidation{Batch: next, Mode: sfsync.DeleteSoft, Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: crashAt(2)}}); err != nil {
				t.Fatal(err)
			}
			rows, err = w.Rows(ctx, tbl.Object)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				delete(r, sfsync.ColSyncedAt)
			}
			if diff := cmp.Diff(after, rows); diff != "" {
				t.Errorf("final rows after the next run (-want +got):\n%s", diff)
			}
		})
	}
}

func stageRecords(t *testing.T, w *Warehouse, tbl sfsync.Table, b sfsync.Batch, records ...sfsync.Record) {
	t.Helper()
	s, err := w.Stage(t.Context(), tbl, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), records); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}
