package duckdb

import (
	"fmt"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
)

func narrowRecords(from, n int, mod time.Time) []sfsync.Record {
	out := make([]sfsync.Record, n)
	for i := range out {
		out[i] = sfsync.Record{fmt.Sprintf("001%015d", from+i), fmt.Sprint("Account ", from+i), nil, false, mod}
	}
	return out
}

// TestStageBeyondAppenderBuffer stages more rows than DuckDB's Appender
// buffers before flushing on its own, and many times what the stager
// lets it buffer: the rows still appear only at Close, and Abort leaves
// none.
func TestStageBeyondAppenderBuffer(t *testing.T) {
	ctx := t.Context()
	w := openTemp(t)
	defer w.Close()
	tbl := testTable()
	ready(t, w, tbl)
	mod := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	const page = 5000
	const rows = (100*2048/page + 1) * page // DuckDB's Appender flushes 100 vectors on its own
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
	w := openTemp(t)
	defer w.Close()
	tbl := testTable()
	ready(t, w, tbl)
	mod := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
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
	// More than the stager buffers: rows have reached its temporary table.
	if err := next.Write(ctx, narrowRecords(3000, 2*stageFlushRows, mod)); err != nil {
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

// TestStageLeavesNoTemporaryTable checks that a closed or aborted stager
// leaves no temporary table on the connection it returns to the pool,
// which would hold a batch in memory for as long as the connection lives.
func TestStageLeavesNoTemporaryTable(t *testing.T) {
	ctx := t.Context()
	w := openTemp(t)
	defer w.Close()
	w.db.SetMaxOpenConns(1) // the stager's connection is the one queried next
	tbl := testTable()
	ready(t, w, tbl)
	mod := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, commit := range []bool{true, false} {
		s, err := w.Stage(ctx, tbl, sfsync.Batch{ID: fmt.Sprint("temp-", commit), Object: "Account", ExtractedAt: mod})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, narrowRecords(0, 2*stageFlushRows, mod)); err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			s.Abort()
		}
		var n int
		if err := w.db.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE temporary").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("closed: %v: %d temporary tables left on the pooled connection", commit, n)
		}
	}
}
