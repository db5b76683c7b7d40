package replicate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/sfemu"
)

// failingWarehouse is the real DuckDB warehouse with one operation made to
// fail, as a warehouse that goes away mid-run would: the n-th Consolidate,
// the n-th stager Close or the n-th stager Write (1-based; 0 never).
type failingWarehouse struct {
	sfsync.Warehouse
	consolidate, close, write int32
	consolidates, closes      atomic.Int32
	writes                    atomic.Int32
}

var errWarehouseGone = errors.New("warehouse went away")

func (w *failingWarehouse) Consolidate(ctx context.Context, t sfsync.Table, c sfsync.Consolidation) (sfsync.ConsolidateResult, error) {
	if w.consolidates.Add(1) == w.consolidate {
		return sfsync.ConsolidateResult{}, errWarehouseGone
	}
	return w.Warehouse.Consolidate(ctx, t, c)
}

func (w *failingWarehouse) Stage(ctx context.Context, t sfsync.Table, b sfsync.Batch) (sfsync.Stager, error) {
	st, err := w.Warehouse.Stage(ctx, t, b)
	if err != nil {
		return nil, err
	}
	return &failingStager{Stager: st, w: w}, nil
}

type failingStager struct {
	sfsync.Stager
	w *failingWarehouse
}

func (s *failingStager) Write(ctx context.Context, records []sfsync.Record) error {
	if s.w.writes.Add(1) == s.w.write {
		// Part of the page lands, as when the connection drops mid-write.
		if err := s.Stager.Write(ctx, records[:len(records)/2]); err != nil {
			return err
		}
		return errWarehouseGone
	}
	return s.Stager.Write(ctx, records)
}

func (s *failingStager) Close(ctx context.Context) error {
	if s.w.closes.Add(1) == s.w.close {
		s.Stager.Abort()
		return errWarehouseGone
	}
	return s.Stager.Close(ctx)
}

// TestWarehouseFailureLosesNothing: when staging or consolidating a batch
// fails mid-run (here while the next batch is being staged), no cursor past
// the lost rows is committed, not even by the salvage of what was staged
// after the error: every source record stamped before the committed cursor
// is in the replica. The run is partial or failed, and the next run heals.
func TestWarehouseFailureLosesNothing(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		consolidate, close, write int32
	}{
		{"second consolidation", 2, 0, 0},
		{"second batch's close", 0, 2, 0},
		{"first batch's close", 0, 1, 0},
		{"fifth page's write", 0, 0, 5},
		{"first page's write", 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sfemu.Options{Seed: 12, Records: map[string]int{"Account": 3000, "User": 5}})
			e.src = newClient(t, e.srv.URL, 200)
			fw := &failingWarehouse{Warehouse: e.wh, consolidate: tc.consolidate, close: tc.close, write: tc.write}
			r, err := replicate.New(replicate.Options{Source: e.src, Warehouse: fw, Lookback: time.Minute, BatchRows: 600})
			if err != nil {
				t.Fatal(err)
			}
			run := r.Run(t.Context(), []replicate.ObjectSpec{spec("Account")}, false)[0]
			if run.Status == sfsync.RunComplete || !strings.Contains(run.Reason+run.Error, errWarehouseGone.Error()) {
				t.Fatalf("run with a failed warehouse operation: %+v", run)
			}
			checkCursorCovers(t, e, "Account")
			// The next run heals.
			r2 := e.replicator(t, replicate.Options{Lookback: time.Minute, BatchRows: 600})
			e.runAll(t, r2, sfsync.RunComplete, false, spec("Account"))
			e.mustEqual(t, "Account")
		})
	}
}

// checkCursorCovers fails when a source record stamped before the object's
// committed cursor is missing from the replica: the next run would start
// past it and never bring it.
func checkCursorCovers(t *testing.T, e *env, object string) {
	t.Helper()
	st, err := e.wh.State(t.Context(), object)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	rows, err := e.wh.DB().QueryContext(t.Context(), fmt.Sprintf(`SELECT "Id" FROM salesforce."%s"`, object))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		have[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for id, rec := range e.emu.Truth(object) {
		stamp, _ := rec["SystemModstamp"].(time.Time)
		if stamp.Before(st.Cursor.Time) && !have[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("the committed cursor %v is past %d source records missing from the replica (%d rows committed)",
			st.Cursor.Time, missing, len(have))
	}
}
