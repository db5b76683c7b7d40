package duckdb

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/orchestrator"
)

// serviceTemp opens a warehouse with the control and service tables and a
// clock the test moves.
func serviceTemp(t *testing.T) (*Warehouse, *time.Time) {
	t.Helper()
	w := openTemp(t)
	t.Cleanup(func() { w.Close() })
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	w.now = func() time.Time { return now }
	if err := w.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := w.SetupService(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return w, &now
}

func TestLeases(t *testing.T) {
	ctx := t.Context()
	w, now := serviceTemp(t)
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
	want := []Lease{
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

func TestStatusRoundTrip(t *testing.T) {
	ctx := t.Context()
	w, now := serviceTemp(t)
	at := time.Date(2025, 3, 1, 12, 15, 0, 0, time.UTC)
	statuses := []orchestrator.Status{
		{Object: "Account", State: orchestrator.StateRetrying, Full: true, Attempt: 2, NextRun: at.Add(time.Hour),
			NextAttempt: at, RunID: "run-1", Outcome: sfsync.RunFailed, Error: "describe Account: 503", UpdatedAt: *now},
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

func TestRunHistoryAndPrune(t *testing.T) {
	ctx := t.Context()
	w, _ := serviceTemp(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var saved []sfsync.Run
	for i := range 6 {
		object := "Account"
		if i%2 == 1 {
			object = "Contact"
		}
		r := sfsync.Run{ID: "run-" + string(rune('a'+i)), Object: object, StartedAt: base.Add(time.Duration(i) * 24 * time.Hour),
			FinishedAt: base.Add(time.Duration(i)*24*time.Hour + time.Minute), Status: sfsync.RunComplete, RowsExtracted: int64(10 * i)}
		if i == 5 {
			r.FinishedAt, r.Status = time.Time{}, sfsync.RunRunning
		}
		if err := w.SaveRun(ctx, r); err != nil {
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
