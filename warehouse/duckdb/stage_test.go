package duckdb

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
)

// stageTime stamps the records of the staging tests.
var stageTime = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

func narrowRecords(from, n int, mod time.Time) []sfsync.Record {
	out := make([]sfsync.Record, n)
	for i := range out {
		out[i] = sfsync.Record{fmt.Sprintf("001%015d", from+i), fmt.Sprint("Account ", from+i), nil, false, mod}
	}
	return out
}

// TestStageLargeBatch stages many times what the spool's write buffer
// holds: the rows still appear only at Close, and Abort leaves none.
func TestStageLargeBatch(t *testing.T) {
	ctx := t.Context()
	w, tbl := readyTemp(t)
	mod := stageTime
	const page = 5000
	const rows = 41 * page
	for _, commit := range []bool{false, true} {
		b := sfsync.Batch{ID: fmt.Sprint("large-", commit), Object: "Account", ExtractedAt: mod}
		s, err := w.Stage(ctx, tbl, b)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < rows; i += page {
			if err := s.Write(ctx, narrowRecords(i, page, mod)); err != nil {
				t.Fatal(err)
			}
		}
		staged, err := w.StagedRows(ctx, "Account")
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := staged[b.ID]; ok {
			t.Fatalf("%d rows of batch %s visible before Close", n, b.ID)
		}
		if commit {
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			s.Abort()
		}
		staged, err = w.StagedRows(ctx, "Account")
		if err != nil {
			t.Fatal(err)
		}
		want := int64(0)
		if commit {
			want = rows
		}
		if staged[b.ID] != want {
			t.Errorf("batch %s (closed: %v): %d staged rows, want %d", b.ID, commit, staged[b.ID], want)
		}
	}
}

// TestCheckpointWhileStaging consolidates a batch while the next one is
// being staged, as a run does, and checks that the consolidation was
// checkpointed: a batch being staged holds no transaction that would
// block it (and keep everything since in memory).
func TestCheckpointWhileStaging(t *testing.T) {
	ctx := t.Context()
	w, tbl := readyTemp(t)
	mod := stageTime
	first := sfsync.Batch{ID: "first", Object: "Account", ExtractedAt: mod}
	s, err := w.Stage(ctx, tbl, first)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, narrowRecords(0, 3000, mod)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	next, err := w.Stage(ctx, tbl, sfsync.Batch{ID: "next", Object: "Account", ExtractedAt: mod})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Abort()
	// More than the spool buffers: rows have reached its file.
	if err := next.Write(ctx, narrowRecords(3000, 20000, mod)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Consolidate(ctx, tbl, sfsync.Consolidation{Batch: first, Mode: sfsync.DeleteSoft,
		Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: mod}}); err != nil {
		t.Fatal(err)
	}
	var wal string
	if err := w.db.QueryRowContext(ctx, "SELECT wal_size FROM pragma_database_size()").Scan(&wal); err != nil {
		t.Fatal(err)
	}
	if wal != "0 bytes" {
		t.Errorf("write-ahead log after consolidating next to a batch being staged: %s, want 0 bytes (checkpointed)", wal)
	}
}

// TestStageLeavesNoSpoolFile checks that a closed or aborted stager
// leaves no spool file next to the database, and that where the system
// allows it the file has no name even while the batch is written, so a
// killed process leaves nothing behind either.
func TestStageLeavesNoSpoolFile(t *testing.T) {
	ctx := t.Context()
	w, tbl := readyTemp(t)
	mod := stageTime
	spools := func() []string {
		t.Helper()
		names, err := filepath.Glob(filepath.Join(w.spoolDir(), ".sfsync-stage-*"))
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	for _, commit := range []bool{true, false} {
		st, err := w.Stage(ctx, tbl, sfsync.Batch{ID: fmt.Sprint("spool-", commit), Object: "Account", ExtractedAt: mod})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Write(ctx, narrowRecords(0, 20000, mod)); err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS == "linux" {
			if names := spools(); len(names) != 0 {
				t.Errorf("spool files with names while staging: %v; want none (unlinked at creation)", names)
			}
			if sp := st.(*stager).spool; sp.named || !strings.HasPrefix(sp.path, "/proc/self/fd/") {
				t.Errorf("spool %s (named: %v): want an unlinked file read through /proc/self/fd", sp.path, sp.named)
			}
		}
		if commit {
			if err := st.Close(ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			st.Abort()
		}
		if names := spools(); len(names) != 0 {
			t.Errorf("closed: %v: spool files left: %v", commit, names)
		}
	}
}

// TestStageNamedSpool stages through a spool file that keeps its name, as
// on systems without /proc/self/fd, in a directory whose name needs
// quoting in SQL, and checks that Close loads it and removes it.
func TestStageNamedSpool(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "it's a dir")
	w, err := Open(ctx, Options{Path: filepath.Join(dir, "sfsync.duckdb"), Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tbl := testTable()
	ready(t, w, tbl)
	mod := stageTime
	spoolUnlink = false
	defer func() { spoolUnlink = true }()
	s, err := w.stage(ctx, tbl, sfsync.Batch{ID: "named", Object: "Account", ExtractedAt: mod})
	if err != nil {
		t.Fatal(err)
	}
	if !s.spool.named {
		t.Fatalf("spool %s has no name", s.spool.path)
	}
	if _, err := os.Stat(s.spool.path); err != nil {
		t.Fatalf("named spool file: %v", err)
	}
	path := s.spool.path
	if err := s.Write(ctx, narrowRecords(0, 1000, mod)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	staged, err := w.StagedRows(ctx, "Account")
	if err != nil {
		t.Fatal(err)
	}
	if staged["named"] != 1000 {
		t.Errorf("staged %d rows, want 1000", staged["named"])
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("spool file %s after Close: %v; want it removed", path, err)
	}
}

// TestEncoderConvertsOtherGoTypes: a value not of the Go type its column's
// kind expects is converted rather than written as is (or failing), for
// every kind the encoders write directly.
func TestEncoderConvertsOtherGoTypes(t *testing.T) {
	for _, tt := range []struct {
		typ    sfsync.FieldType
		column string
		in     any
		want   string
	}{
		{sfsync.TypeTime, "TIME", "13:30:05.123Z", "13:30:05.123"},
		{sfsync.TypeDate, "DATE", "2024-02-29", "2024-02-29"},
		{sfsync.TypeDateTime, "TIMESTAMP WITH TIME ZONE", "2024-02-29T13:30:05.123+0000", "2024-02-29 13:30:05.123+00"},
		{sfsync.TypeInt, "BIGINT", "77", "77"},
		{sfsync.TypeBoolean, "BOOLEAN", "true", "true"},
		{sfsync.TypeDouble, "DOUBLE", int64(2), "2"},
		{sfsync.TypeString, "VARCHAR", int64(7), `"7"`},
	} {
		enc, err := newEncoder(sfsync.Field{Name: "F", Type: tt.typ}, parseColType(tt.column))
		if err != nil {
			t.Fatalf("%s into %s: %v", tt.typ, tt.column, err)
		}
		got, err := enc(nil, tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s %#v into %s: %q, %v; want %q", tt.typ, tt.in, tt.column, got, err, tt.want)
		}
	}
}
