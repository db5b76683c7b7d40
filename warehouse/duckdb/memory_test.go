package duckdb

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/sfsync/sfsync"
)

// TestAllocatorOptions checks that the allocator's options are in the
// environment by the time Go code runs, set by alloc_linux.go's
// constructor unless the environment set them.
func TestAllocatorOptions(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("DuckDB uses jemalloc on Linux only")
	}
	conf := allocatorOptions()
	if !strings.Contains(conf, "narenas:") {
		t.Errorf("%s = %q at start; want sfsync's options (or the user's)", allocatorEnv, conf)
	}
}

// TestDefaultMemoryLimit checks that the default limit grows with the
// objects replicated at once, and that an explicit one wins.
func TestDefaultMemoryLimit(t *testing.T) {
	for _, tt := range []struct {
		opts Options
		want string // as DuckDB reports it
	}{
		{Options{}, "122.0 MiB"},
		{Options{Parallelism: 3}, "366.2 MiB"},
		{Options{Parallelism: 3, MemoryLimit: "1GB"}, "953.6 MiB"},
	} {
		tt.opts.Path = filepath.Join(t.TempDir(), "limit.duckdb")
		w, err := Open(t.Context(), tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		err = w.db.QueryRowContext(t.Context(), "SELECT current_setting('memory_limit')").Scan(&got)
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("parallelism %d, limit %q: memory_limit %s, want %s", tt.opts.Parallelism, tt.opts.MemoryLimit, got, tt.want)
		}
	}
}

// TestMemoryErrorNamesTheSetting checks that DuckDB running out of memory
// is reported with the limit and the settings that change it, and that
// other errors pass unchanged.
func TestMemoryErrorNamesTheSetting(t *testing.T) {
	w := &Warehouse{mem: memory{limit: "128MB"}}
	oom := fmt.Errorf("load: %w", &duckdb.Error{Type: duckdb.ErrorTypeOutOfMemory, Msg: "Out of Memory Error: could not allocate block"})
	got := w.memoryError(oom)
	for _, want := range []string{"could not allocate block", "128MB", "warehouse.memory_limit", "sync.parallelism"} {
		if !strings.Contains(got.Error(), want) {
			t.Errorf("out of memory: %q does not mention %q", got, want)
		}
	}
	other := errors.New("constraint violated")
	if got := w.memoryError(other); got != other {
		t.Errorf("other error: got %v, want it unchanged", got)
	}
}

// TestDefaultLimitRaisedForLargeBatch stages and consolidates a batch too
// large for a (test-sized) default limit: the warehouse doubles the limit
// and completes, while a limit the user set is kept and the error names
// it.
func TestDefaultLimitRaisedForLargeBatch(t *testing.T) {
	memoryPerObject = 16
	defer func() { memoryPerObject = DefaultMemoryPerObject }()
	ctx := t.Context()
	mod := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	records := benchRecords(0, 200_000, mod)
	load := func(w *Warehouse) error {
		tbl := benchTable()
		if err := w.Setup(ctx); err != nil {
			return err
		}
		if err := w.EnsureTable(ctx, tbl); err != nil {
			return err
		}
		b := sfsync.Batch{ID: "large", RunID: "r", Object: "Account", ExtractedAt: mod}
		s, err := w.Stage(ctx, tbl, b)
		if err != nil {
			return err
		}
		if err := s.Write(ctx, records); err != nil {
			s.Abort()
			return err
		}
		if err := s.Close(ctx); err != nil {
			return err
		}
		_, err = w.Consolidate(ctx, tbl, sfsync.Consolidation{Batch: b, Mode: sfsync.DeleteSoft, Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: mod}})
		return err
	}

	w, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "auto.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := load(w); err != nil {
		t.Fatalf("a batch beyond the default limit: %v", err)
	}
	if w.mem.raises == 0 {
		t.Errorf("the default limit %s was never raised; the test's batch fits it and proves nothing", w.mem.current())
	}
	var rows int64
	if err := w.db.QueryRowContext(ctx, `SELECT count(*) FROM salesforce."Account"`).Scan(&rows); err != nil || rows != int64(len(records)) {
		t.Errorf("final rows %d, %v; want %d", rows, err, len(records))
	}

	set, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "set.duckdb"), MemoryLimit: "16MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	err = load(set)
	if err == nil || !strings.Contains(err.Error(), "warehouse.memory_limit") || !strings.Contains(err.Error(), "16MB") {
		t.Errorf("a batch beyond a limit the user set: %v; want an out-of-memory error naming the limit", err)
	}
	if got := set.mem.current(); got != "16MB" {
		t.Errorf("the user's limit became %s", got)
	}
}

// TestPurgeAllocator checks that DuckDB's library still has the jemalloc
// control function the warehouse purges through (it is linked weakly, so
// a library without it would build and silently never purge).
func TestPurgeAllocator(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("DuckDB uses jemalloc on Linux only")
	}
	if !purgeAllocator() {
		t.Error("purgeAllocator: DuckDB's library has no duckdb_je_mallctl, or arena.4096.purge failed")
	}
}
