package duckdb

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

// oldRunsTable is the runs table as warehouses created it before it had
// bulk_jobs.
const oldRunsTable = `CREATE TABLE "_sfsync"."runs" (
  "run_id" VARCHAR PRIMARY KEY, "object" VARCHAR NOT NULL, "full_refresh" BOOLEAN NOT NULL,
  "started_at" TIMESTAMPTZ, "finished_at" TIMESTAMPTZ, "status" VARCHAR NOT NULL, "reason" VARCHAR,
  "error" VARCHAR, "window_from" TIMESTAMPTZ, "window_to" TIMESTAMPTZ, "cursor_before" TIMESTAMPTZ,
  "cursor_after" TIMESTAMPTZ, "rows_extracted" BIGINT NOT NULL, "rows_upserted" BIGINT NOT NULL,
  "rows_deleted" BIGINT NOT NULL, "api_calls" BIGINT NOT NULL, "updated_at" TIMESTAMPTZ NOT NULL)`

// TestSetupAddsBulkJobs opens a warehouse whose runs table predates
// bulk_jobs: Setup adds the column, the old run reads 0 Bulk jobs, and new
// runs keep theirs.
func TestSetupAddsBulkJobs(t *testing.T) {
	w := openTemp(t)
	defer w.Close()
	ctx := t.Context()
	for _, q := range []string{
		`CREATE SCHEMA "_sfsync"`,
		oldRunsTable,
		`INSERT INTO "_sfsync"."runs" VALUES ('old', 'Account', false, TIMESTAMPTZ '2025-01-02 03:04:05Z', TIMESTAMPTZ '2025-01-02 03:05:05Z',
			'complete', NULL, NULL, NULL, NULL, NULL, NULL, 10, 10, 0, 7, TIMESTAMPTZ '2025-01-02 03:05:05Z')`,
	} {
		if _, err := w.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for range 2 { // Setup is idempotent
		if err := w.Setup(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st, err := w.State(ctx, "Account")
	if err != nil {
		t.Fatal(err)
	}
	if st.LastRun == nil || st.LastRun.ID != "old" || st.LastRun.APICalls != 7 || st.LastRun.BulkJobs != 0 {
		t.Fatalf("old run after Setup: %+v", st.LastRun)
	}
	run := sfsync.Run{ID: "new", Object: "Account", StartedAt: time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC),
		FinishedAt: time.Date(2025, 1, 3, 0, 1, 0, 0, time.UTC), Status: sfsync.RunComplete,
		RowsExtracted: 5, APICalls: 30, BulkJobs: 4}
	if err := w.SaveRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if st, err = w.State(ctx, "Account"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&run, st.LastRun); diff != "" {
		t.Errorf("saved run read back (-saved +read):\n%s", diff)
	}
	runs, err := w.Service().Runs(ctx, "Account", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].BulkJobs != 4 || runs[1].BulkJobs != 0 {
		t.Errorf("runs: %+v", runs)
	}
}
