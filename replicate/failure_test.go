package replicate_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/sfemu"
)

// failingWarehouse is the real DuckDB warehouse with one consolidation
// made to fail, as a warehouse that goes away mid-run would.
type failingWarehouse struct {
	sfsync.Warehouse
	failOn int32 // the n-th Consolidate call fails (1-based)
	calls  atomic.Int32
}

var errWarehouseGone = errors.New("warehouse went away")

func (w *failingWarehouse) Consolidate(ctx context.Context, t sfsync.Table, c sfsync.Consolidation) (sfsync.ConsolidateResult, error) {
	if w.calls.Add(1) == w.failOn {
		return sfsync.ConsolidateResult{}, errWarehouseGone
	}
	return w.Warehouse.Consolidate(ctx, t, c)
}

// TestConsolidationFailureLosesNothing: when a batch fails to consolidate
// (here the second, while the third is being staged), no later batch may
// commit a cursor past it; the run is partial and the next run heals.
func TestConsolidationFailureLosesNothing(t *testing.T) {
	e := newEnv(t, sfemu.Options{Seed: 12, Records: map[string]int{"Account": 3000, "User": 5}})
	e.src = newClient(t, e.srv.URL, 200)
	fw := &failingWarehouse{Warehouse: e.wh, failOn: 2}
	r, err := replicate.New(replicate.Options{Source: e.src, Warehouse: fw, Lookback: time.Minute, BatchRows: 600})
	if err != nil {
		t.Fatal(err)
	}
	runs := r.Run(t.Context(), []replicate.ObjectSpec{spec("Account")}, false)
	run := runs[0]
	if run.Status != sfsync.RunPartial || !strings.Contains(run.Reason, errWarehouseGone.Error()) {
		t.Fatalf("run with a failed consolidation: %+v", run)
	}
	st, err := e.wh.State(t.Context(), "Account")
	if err != nil {
		t.Fatal(err)
	}
	var staged int64
	if err := e.wh.DB().QueryRowContext(t.Context(), `SELECT count(*) FROM salesforce."Account"`).Scan(&staged); err != nil {
		t.Fatal(err)
	}
	// Only the first batch committed: the cursor must not lie beyond the
	// newest record committed.
	var newest time.Time
	if err := e.wh.DB().QueryRowContext(t.Context(), `SELECT max("SystemModstamp") FROM salesforce."Account"`).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	if st.Cursor.Time.After(newest) || staged >= 3000 {
		t.Fatalf("cursor %v past the newest committed record %v (%d rows committed)", st.Cursor.Time, newest, staged)
	}
	// The next run heals.
	r2 := e.replicator(t, replicate.Options{Lookback: time.Minute, BatchRows: 600})
	e.runAll(t, r2, sfsync.RunComplete, false, spec("Account"))
	e.mustEqual(t, "Account")
}
