package warehousetest

import (
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/orchestrator"
	"github.com/sfsync/sfsync/warehouse/sqlstore"
)

// ServiceOpener opens a fresh, empty warehouse and the service Store on
// it. The suite calls Setup on both and closes the warehouse.
type ServiceOpener func(t *testing.T) (sfsync.Warehouse, *sqlstore.Store)

// RunService runs the conformance suite of the service's Store: leases
// (taken, renewed, expired, released, broken, raced for), object statuses
// and run history with pruning.
func RunService(t *testing.T, open ServiceOpener) {
	t.Run("Leases", func(t *testing.T) { testLeases(t, open) })
	t.Run("LeaseRace", func(t *testing.T) { testLeaseRace(t, open) })
	t.Run("StatusRoundTrip", func(t *testing.T) { testStatusRoundTrip(t, open) })
	t.Run("RunHistoryAndPrune", func(t *testing.T) { testRunHistory(t, open) })
	t.Run("SetupAddsRunColumns", func(t *testing.T) { testSetupAddsRunColumns(t, open) })
}

// DBer is a warehouse whose database the suite can reach with plain SQL,
// to lay out control tables as older versions of sfsync created them.
type DBer interface {
	DB() *sql.DB
}

// testSetupAddsRunColumns opens a warehouse whose runs table predates
// bulk_jobs: Setup adds the column, the old run reads 0 Bulk jobs, and new
// runs keep theirs.
func testSetupAddsRunColumns(t *testing.T, open ServiceOpener) {
	ctx := t.Context()
	w, store := open(t)
	t.Cleanup(func() { w.Close() })
	db, ok := w.(DBer)
	if !ok {
		t.Skip("the warehouse does not expose its database")
	}
	for _, q := range []string{
		`CREATE SCHEMA "_sfsync"`,
		`CREATE TABLE "_sfsync"."runs" (
  "run_id" TEXT PRIMARY KEY, "object" TEXT NOT NULL, "full_refresh" BOOLEAN NOT NULL,
  "started_at" TIMESTAMPTZ, "finished_at" TIMESTAMPTZ, "status" TEXT NOT NULL, "reason" TEXT,
  "error" TEXT, "window_from" TIMESTAMPTZ, "window_to" TIMESTAMPTZ, "cursor_before" TIMESTAMPTZ,
  "cursor_after" TIMESTAMPTZ, "rows_extracted" BIGINT NOT NULL, "rows_upserted" BIGINT NOT NULL,
  "rows_deleted" BIGINT NOT NULL, "api_calls" BIGINT NOT NULL, "updated_at" TIMESTAMPTZ NOT NULL)`,
		`INSERT INTO "_sfsync"."runs" VALUES ('old', 'Account', false, TIMESTAMPTZ '2025-01-02 03:04:05Z', TIMESTAMPTZ '2025-01-02 03:05:05Z',
			'complete', NULL, NULL, NULL, NULL, NULL, NULL, 10, 10, 0, 7, TIMESTAMPTZ '2025-01-02 03:05:05Z')`,
	} {
		if _, err := db.DB().ExecContext(ctx, q); err != nil {
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
	runs, err := store.Runs(ctx, "Account", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].BulkJobs != 4 || runs[1].BulkJobs != 0 {
		t.Errorf("runs: %+v", runs)
	}
}

// serviceSetup opens a warehouse with its control and service tables and
// a clock the test moves.
func serviceSetup(t *testing.T, open ServiceOpener) (sfsync.Warehouse, *sqlstore.Store, *time.Time) {
	t.Helper()
	w, s := open(t)
	t.Cleanup(func() { w.Close() })
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	if err := w.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := s.Setup(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return w, s, &now
}

func testLeases(t *testing.T, open ServiceOpener) {
	ctx := t.Context()
	_, w, now := serviceSetup(t, open)
	ttl := time.Minute
	step := func(what string, got bool, err error, want bool) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got != want {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
	ok, err := w.AcquireLease(ctx, "Account", "a", ttl)
	step("a acquires a free lease", ok, err, true)
	ok, err = w.AcquireLease(ctx, "Account", "b", ttl)
	step("b acquires a's live lease", ok, err, false)
	ok, err = w.AcquireLease(ctx, "Contact", "b", ttl)
	step("b acquires another object's lease", ok, err, true)
	*now = now.Add(30 * time.Second)
	ok, err = w.AcquireLease(ctx, "Account", "a", ttl)
	step("a acquires its own lease again", ok, err, true)
	ok, err = w.RenewLease(ctx, "Account", "a", ttl)
	step("a renews", ok, err, true)
	ok, err = w.RenewLease(ctx, "Account", "b", ttl)
	step("b renews a's lease", ok, err, false)

	leases, err := w.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	want := []sqlstore.Lease{
		{Object: "Account", Owner: "a", AcquiredAt: start, ExpiresAt: now.Add(ttl)},
		{Object: "Contact", Owner: "b", AcquiredAt: start, ExpiresAt: start.Add(ttl)},
	}
	if diff := cmp.Diff(want, leases); diff != "" {
		t.Errorf("leases (-want +got):\n%s", diff)
	}

	// a's lease expires without renewal: b takes it over, and a's renewal
	// then fails.
	*now = now.Add(ttl)
	ok, err = w.AcquireLease(ctx, "Account", "b", ttl)
	step("b acquires a's expired lease", ok, err, true)
	ok, err = w.RenewLease(ctx, "Account", "a", ttl)
	step("a renews the lease b took", ok, err, false)
	if err := w.ReleaseLease(ctx, "Account", "a"); err != nil {
		t.Fatal(err)
	}
	ok, err = w.AcquireLease(ctx, "Account", "a", ttl)
	step("a's release left b's lease alone", ok, err, false)
	if err := w.ReleaseLease(ctx, "Account", "b"); err != nil {
		t.Fatal(err)
	}
	ok, err = w.AcquireLease(ctx, "Account", "a", ttl)
	step("a acquires the released lease", ok, err, true)

	n, err := w.BreakLeases(ctx, "a")
	if err != nil || n != 1 {
		t.Fatalf("BreakLeases = %d, %v; want b's one lease broken", n, err)
	}
	ok, err = w.AcquireLease(ctx, "Contact", "a", ttl)
	step("a acquires the broken lease", ok, err, true)
}

// testLeaseRace has owners race for one free lease, and then for the same
// lease once it expired: exactly one wins each time. A loser sees false,
// or an error where the engine reports a write conflict instead of
// waiting, never a lease it does not hold.
func testLeaseRace(t *testing.T, open ServiceOpener) {
	ctx := t.Context()
	_, w, now := serviceSetup(t, open)
	const owners = 8
	race := func(round string) string {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []string
		for i := range owners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("%s-%d", round, i)
				ok, err := w.AcquireLease(ctx, "Account", owner, time.Minute)
				if err == nil && ok {
					mu.Lock()
					winners = append(winners, owner)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("%s: %d owners hold the lease (%v), want exactly one", round, len(winners), winners)
		}
		leases, err := w.Leases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(leases) != 1 || leases[0].Owner != winners[0] {
			t.Fatalf("%s: leases %+v, want one held by the winner %s", round, leases, winners[0])
		}
		return winners[0]
	}
	first := race("free")
	*now = now.Add(2 * time.Minute)
	second := race("expired")
	if ok, err := w.RenewLease(ctx, "Account", first, time.Minute); err != nil || ok {
		t.Fatalf("the first winner renewed a lease %s took over: %v, %v", second, ok, err)
	}
}

func testStatusRoundTrip(t *testing.T, open ServiceOpener) {
	ctx := t.Context()
	_, w, now := serviceSetup(t, open)
	at := time.Date(2025, 3, 1, 12, 15, 0, 0, time.UTC)
	statuses := []orchestrator.Status{
		{Object: "Account", State: orchestrator.StateRetrying, Full: true, Attempt: 2, NextRun: at.Add(time.Hour),
			NextAttempt: at, RunID: "run-1", Outcome: sfsync.RunFailed, Error: "describe Account: 503 \"quoted\"\nline two", UpdatedAt: *now},
		{Object: "Contact", State: orchestrator.StatePending, UpdatedAt: *now},
	}
	for _, s := range statuses {
		if err := w.SaveStatus(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// Saving again replaces the row.
	statuses[1].State, statuses[1].Outcome, statuses[1].Reason = orchestrator.StateDone, sfsync.RunPartial, "API budget: org usage 900/1000 above 80%"
	if err := w.SaveStatus(ctx, statuses[1]); err != nil {
		t.Fatal(err)
	}
	got, err := w.LoadStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(statuses, got); diff != "" {
		t.Errorf("statuses (-saved +loaded):\n%s", diff)
	}
	if err := w.SaveStatus(ctx, orchestrator.Status{}); err == nil {
		t.Error("SaveStatus accepted a status without an object")
	}
}

func testRunHistory(t *testing.T, open ServiceOpener) {
	ctx := t.Context()
	wh, w, _ := serviceSetup(t, open)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var saved []sfsync.Run
	for i := range 6 {
		object := "Account"
		if i%2 == 1 {
			object = "Contact"
		}
		r := sfsync.Run{ID: "run-" + string(rune('a'+i)), Object: object, StartedAt: base.Add(time.Duration(i) * 24 * time.Hour),
			FinishedAt: base.Add(time.Duration(i)*24*time.Hour + time.Minute), Status: sfsync.RunComplete, RowsExtracted: int64(10 * i),
			APICalls: int64(i)}
		if i == 5 {
			r.FinishedAt, r.Status = time.Time{}, sfsync.RunRunning
		}
		if err := wh.SaveRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		saved = append(saved, r)
	}
	ids := func(runs []sfsync.Run) []string {
		var out []string
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	all, err := w.Runs(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"run-f", "run-e", "run-d", "run-c", "run-b", "run-a"}, ids(all)); diff != "" {
		t.Errorf("all runs, newest first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(saved[4], all[1]); diff != "" {
		t.Errorf("run read back (-saved +read):\n%s", diff)
	}
	acct, err := w.Runs(ctx, "Account", 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"run-e", "run-c"}, ids(acct)); diff != "" {
		t.Errorf("Account's latest two (-want +got):\n%s", diff)
	}

	// Runs finished before day 3 go; the running one stays.
	n, err := w.PruneRuns(ctx, base.Add(3*24*time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("PruneRuns = %d, %v; want 3", n, err)
	}
	left, err := w.Runs(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"run-f", "run-e", "run-d"}, ids(left)); diff != "" {
		t.Errorf("runs after pruning (-want +got):\n%s", diff)
	}
}
