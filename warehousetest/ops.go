package warehousetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

func testCancel(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	a := acct{id: "001A", name: "Acme", mod: 1}
	b := acct{id: "001B", name: "Globex", mod: 1}
	c := acct{id: "001C", name: "Initech", mod: 1}
	h.load(tbl, sfsync.DeleteSoft, a.rec(), b.rec(), c.rec())

	a2 := acct{id: "001A", name: "Acme 2", mod: 5}
	bDel := acct{id: "001B", name: "Globex", deleted: true, mod: 5}
	d := acct{id: "001D", name: "Umbrella", mod: 5}
	batch := h.stage(tbl, a2.rec(), bDel.rec(), d.rec())
	cons := consolidation(tbl, batch, sfsync.DeleteSoft, true, at(5))

	before := h.rawRows("Account")
	stBefore := h.state("Account")
	intact := func(what string) {
		t.Helper()
		if diff := cmpRows(before, h.rawRows("Account")); diff != "" {
			t.Fatalf("%s changed the final table (-before +after):\n%s", what, diff)
		}
		if st := h.state("Account"); !st.Cursor.Time.Equal(stBefore.Cursor.Time) {
			t.Fatalf("%s moved the cursor: %v → %v", what, stBefore.Cursor.Time, st.Cursor.Time)
		}
	}

	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	if _, err := h.w.Consolidate(ctx, tbl, cons); err == nil {
		t.Fatal("Consolidate with a cancelled context succeeded")
	}
	intact("a consolidation with a cancelled context")

	// Cancel at the n-th look at the context, for growing n, until the
	// consolidation gets through: every attempt either fails and changes
	// nothing, or succeeds completely.
	failed := 0
	for n := int64(1); ; n++ {
		if n > 5000 {
			t.Fatal("the consolidation never completed")
		}
		res, err := h.w.Consolidate(newCountdown(h.ctx, n), tbl, cons)
		if err != nil {
			failed++
			intact(fmt.Sprintf("a consolidation cancelled at look %d (%v)", n, err))
			continue
		}
		h.wantResult("the consolidation that got through", res, sfsync.ConsolidateResult{Staged: 3, Upserted: 2, Deleted: 2})
		break
	}
	if failed == 0 {
		t.Error("no attempt was cancelled: the warehouse never looked at its context")
	}
	h.wantRows("Account", a2.live(), bDel.row(at(5)), c.row(batch.ExtractedAt), d.live())
	if st := h.state("Account"); !st.Cursor.Time.Equal(at(5)) {
		t.Errorf("cursor %v, want %v", st.Cursor.Time, at(5))
	}
}

func testLock(t *testing.T, h *harness) {
	release, err := h.w.Lock(h.ctx, false)
	if err != nil {
		t.Fatalf("first Lock: %v", err)
	}
	if _, err := h.w.Lock(h.ctx, false); !errors.Is(err, sfsync.ErrBusy) {
		t.Fatalf("second Lock without wait: got %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	if _, err := h.w.Lock(ctx, true); !errors.Is(err, sfsync.ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Errorf("waiting Lock with a cancelled context: got %v, want ErrBusy and context.Canceled", err)
	}

	var held atomic.Bool
	held.Store(true)
	got := make(chan error, 1)
	go func() {
		r, err := h.w.Lock(h.ctx, true)
		if err == nil {
			if held.Load() {
				err = errors.New("acquired the lock while the first holder had it")
			}
			r()
		}
		got <- err
	}()
	held.Store(false)
	release()
	release() // safe twice
	if err := <-got; err != nil {
		t.Fatalf("waiting Lock: %v", err)
	}
	// Free again.
	r, err := h.w.Lock(h.ctx, false)
	if err != nil {
		t.Fatalf("Lock after both released: %v", err)
	}
	r()
}

func testCursor(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	if c, err := h.w.Cursor(h.ctx, "Account"); err != nil || !c.Time.IsZero() {
		t.Fatalf("Cursor of an object never consolidated = %+v, %v; want the zero Cursor", c, err)
	}
	step := func(mod int, cursor time.Time, want time.Time) {
		t.Helper()
		b := h.stage(tbl, acct{id: "001A", name: "Acme", mod: mod}.rec())
		h.consolidate(tbl, consolidation(tbl, b, sfsync.DeleteSoft, false, cursor))
		st := h.state("Account")
		if !st.Cursor.Time.Equal(want) || st.Cursor.Field != "SystemModstamp" {
			t.Errorf("after storing %v: cursor %v on %q, want %v on SystemModstamp", cursor, st.Cursor.Time, st.Cursor.Field, want)
		}
		if c, err := h.w.Cursor(h.ctx, "Account"); err != nil || c != st.Cursor {
			t.Errorf("Cursor = %+v, %v; want State's %+v", c, err, st.Cursor)
		}
	}
	step(1, at(5), at(5))
	step(2, at(3), at(5))       // never back
	step(3, time.Time{}, at(5)) // a zero cursor keeps the stored one
	step(4, at(5), at(5))       // equal
	step(5, at(7).Add(123e6), at(7).Add(123e6))
}

func testCleanStaging(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	old := h.batch("Account")
	old.ExtractedAt = old.ExtractedAt.Add(-2 * time.Hour)
	h.stageBatch(tbl, old, acct{id: "001A", name: "old", mod: 1}.rec())
	h.consolidate(tbl, consolidation(tbl, old, sfsync.DeleteSoft, false, at(1)))
	recent := h.stage(tbl, acct{id: "001B", name: "recent", mod: 2}.rec(), acct{id: "001C", name: "recent", mod: 2}.rec())
	h.consolidate(tbl, consolidation(tbl, recent, sfsync.DeleteSoft, false, at(2)))
	waiting := h.stage(tbl, acct{id: "001D", name: "never consolidated", mod: 3}.rec())

	staged := func() map[string]int64 {
		t.Helper()
		m, err := h.r.StagedRows(h.ctx, "Account")
		if err != nil {
			t.Fatalf("StagedRows: %v", err)
		}
		return m
	}
	if diff := cmp.Diff(map[string]int64{old.ID: 1, recent.ID: 2, waiting.ID: 1}, staged()); diff != "" {
		t.Fatalf("staged before cleaning (-want +got):\n%s", diff)
	}
	finalBefore := h.rows("Account")

	if err := h.w.CleanStaging(h.ctx, "Account", time.Hour); err != nil {
		t.Fatalf("CleanStaging: %v", err)
	}
	if diff := cmp.Diff(map[string]int64{recent.ID: 2}, staged()); diff != "" {
		t.Errorf("staged after cleaning with 1h retention (-want +got):\n%s", diff)
	}
	// The cleaned unconsolidated batch is gone for good; a cleaned
	// consolidated one is still recognised as a replay.
	if _, err := h.w.Consolidate(h.ctx, tbl, consolidation(tbl, waiting, sfsync.DeleteSoft, false, at(3))); err == nil {
		t.Error("consolidating a cleaned, never consolidated batch succeeded")
	}
	res := h.consolidate(tbl, consolidation(tbl, old, sfsync.DeleteSoft, false, at(1)))
	h.wantResult("replay of a cleaned batch", res, sfsync.ConsolidateResult{Staged: 1, Replayed: true})
	if diff := cmp.Diff(finalBefore, h.rows("Account")); diff != "" {
		t.Errorf("cleaning changed the final table (-before +after):\n%s", diff)
	}

	if err := h.w.CleanStaging(h.ctx, "Account", 0); err != nil {
		t.Fatalf("CleanStaging(0): %v", err)
	}
	if diff := cmp.Diff(map[string]int64{}, staged()); diff != "" {
		t.Errorf("staged after cleaning with no retention (-want +got):\n%s", diff)
	}
	if err := h.w.CleanStaging(h.ctx, "Nothing__c", 0); err != nil {
		t.Errorf("CleanStaging of an object never staged: %v", err)
	}
	// Staging still works after cleaning.
	h.load(tbl, sfsync.DeleteSoft, acct{id: "001E", name: "after", mod: 4}.rec())
}

// testDropStaged: a consolidation asked to drop its batch's staged rows
// deletes them in its transaction, after a full refresh has used them,
// and leaves other batches' rows; a replay is still recognised.
func testDropStaged(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	kept := h.stage(tbl, acct{id: "001A", name: "Acme", mod: 1}.rec(), acct{id: "001B", name: "Globex", mod: 1}.rec())
	h.consolidate(tbl, consolidation(tbl, kept, sfsync.DeleteSoft, false, at(1)))
	// A full refresh without 001B: it is flagged deleted, then the batch's
	// rows are dropped.
	b := h.stage(tbl, acct{id: "001A", name: "Acme 2", mod: 2}.rec(), acct{id: "001C", name: "Initech", mod: 2}.rec())
	c := consolidation(tbl, b, sfsync.DeleteSoft, true, at(2))
	c.DropStaged = true
	res := h.consolidate(tbl, c)
	h.wantResult("consolidation dropping its rows", res, sfsync.ConsolidateResult{Staged: 2, Upserted: 2, Deleted: 1})
	m, err := h.r.StagedRows(h.ctx, "Account")
	if err != nil {
		t.Fatalf("StagedRows: %v", err)
	}
	if diff := cmp.Diff(map[string]int64{kept.ID: 2}, m); diff != "" {
		t.Errorf("staged rows after a consolidation dropping its own (-want +got):\n%s", diff)
	}
	before := h.rawRows("Account")
	res = h.consolidate(tbl, c)
	h.wantResult("replay of a dropped batch", res, sfsync.ConsolidateResult{Staged: 2, Replayed: true})
	if diff := cmpRows(before, h.rawRows("Account")); diff != "" {
		t.Errorf("a replay changed the final table (-before +after):\n%s", diff)
	}
	h.wantRows("Account",
		acct{id: "001A", name: "Acme 2", mod: 2}.live(),
		acct{id: "001B", name: "Globex", mod: 1}.row(b.ExtractedAt),
		acct{id: "001C", name: "Initech", mod: 2}.live())
}

func testAbort(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	a := acct{id: "001A", name: "Acme", mod: 1}
	h.load(tbl, sfsync.DeleteSoft, a.rec())

	b := h.batch("Account")
	s, err := h.w.Stage(h.ctx, tbl, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(h.ctx, recs(acct{id: "001A", name: "aborted", mod: 9}, acct{id: "001X", name: "aborted", mod: 9})); err != nil {
		t.Fatal(err)
	}
	s.Abort()
	s.Abort()
	if err := s.Write(h.ctx, recs(a)); err == nil {
		t.Error("Write after Abort succeeded")
	}
	m, err := h.r.StagedRows(h.ctx, "Account")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m[b.ID]; ok {
		t.Errorf("aborted batch %s has staged rows: %v", b.ID, m)
	}
	if _, err := h.w.Consolidate(h.ctx, tbl, consolidation(tbl, b, sfsync.DeleteSoft, false, at(9))); err == nil {
		t.Error("consolidating an aborted batch succeeded")
	}
	h.wantRows("Account", a.live())

	// A batch id is used once.
	b = h.stage(tbl, a.rec())
	if s, err := h.w.Stage(h.ctx, tbl, b); err == nil {
		s.Abort()
		t.Error("staging a batch id a second time succeeded")
	}
}

func testRuns(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	ms := func(n int) time.Time { return at(n).Add(123 * time.Millisecond) }
	run := sfsync.Run{ID: "run-1", Object: "Account", StartedAt: ms(1), Status: sfsync.RunRunning, WindowTo: at(1)}
	if err := h.w.SaveRun(h.ctx, run); err != nil {
		t.Fatalf("SaveRun insert: %v", err)
	}
	if st := h.state("Account"); st.LastRun == nil || !cmp.Equal(*st.LastRun, run) || !st.LastSuccess.IsZero() {
		t.Errorf("after the first save: last run %+v, last success %v; want %+v and none", st.LastRun, st.LastSuccess, run)
	}
	run.Status, run.FinishedAt = sfsync.RunComplete, ms(2)
	run.Full, run.WindowFrom, run.CursorBefore, run.CursorAfter = true, at(-10), at(-5), at(1)
	run.RowsExtracted, run.RowsUpserted, run.RowsDeleted, run.APICalls = 10, 8, 2, 3
	if err := h.w.SaveRun(h.ctx, run); err != nil {
		t.Fatalf("SaveRun update: %v", err)
	}
	failed := sfsync.Run{ID: "run-2", Object: "Account", StartedAt: ms(3), FinishedAt: ms(4), Status: sfsync.RunFailed,
		Error: "query timed out at the source", Reason: "window split twice"}
	if err := h.w.SaveRun(h.ctx, failed); err != nil {
		t.Fatal(err)
	}
	lead := sfsync.Run{ID: "run-3", Object: "Lead", StartedAt: ms(5), Status: sfsync.RunFailed, Error: "describe: INVALID_TYPE"}
	if err := h.w.SaveRun(h.ctx, lead); err != nil {
		t.Fatal(err)
	}
	st := h.state("Account")
	if st.LastRun == nil || !cmp.Equal(*st.LastRun, failed) {
		t.Errorf("last run %+v, want %+v", st.LastRun, failed)
	}
	if !st.LastSuccess.Equal(ms(2)) {
		t.Errorf("last success %v, want %v", st.LastSuccess, ms(2))
	}
	h.load(tbl, sfsync.DeleteSoft, acct{id: "001A", name: "Acme", mod: 1}.rec())
	states, err := h.w.States(h.ctx)
	if err != nil {
		t.Fatalf("States: %v", err)
	}
	var names []string
	for _, s := range states {
		names = append(names, s.Object)
	}
	if diff := cmp.Diff([]string{"Account", "Lead"}, names); diff != "" {
		t.Fatalf("States objects (-want +got):\n%s", diff)
	}
	if states[0].Rows != 1 || !states[0].Cursor.Time.Equal(at(1)) || states[1].LastRun == nil || states[1].LastRun.ID != "run-3" {
		t.Errorf("States: %+v", states)
	}
	if err := h.w.SaveRun(h.ctx, sfsync.Run{Object: "Account"}); err == nil {
		t.Error("SaveRun without an id succeeded")
	}
}

func testConcurrentObjects(t *testing.T, h *harness) {
	const objects = 4
	var wg sync.WaitGroup
	errs := make(chan error, objects)
	for i := range objects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- concurrentLoad(h, fmt.Sprintf("Concurrent%d__c", i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := range objects {
		object := fmt.Sprintf("Concurrent%d__c", i)
		if rows := h.rows(object); len(rows) != 50 {
			t.Errorf("%s: %d rows, want 50", object, len(rows))
		}
	}
}

func concurrentLoad(h *harness, object string) error {
	tbl := accountTable()
	tbl.Object = object
	if err := h.w.EnsureTable(h.ctx, tbl); err != nil {
		return err
	}
	for round := 1; round <= 3; round++ {
		var records []sfsync.Record
		for i := range 50 {
			records = append(records, acct{id: fmt.Sprintf("%s-%03d", object, i), name: fmt.Sprint(round), mod: round}.rec())
		}
		b := h.batch(object)
		s, err := h.w.Stage(h.ctx, tbl, b)
		if err != nil {
			return err
		}
		if err := s.Write(h.ctx, records); err != nil {
			s.Abort()
			return err
		}
		if err := s.Close(h.ctx); err != nil {
			return err
		}
		res, err := h.w.Consolidate(h.ctx, tbl, consolidation(tbl, b, sfsync.DeleteSoft, false, at(round)))
		if err != nil {
			return err
		}
		if res.Upserted != 50 {
			return fmt.Errorf("%s round %d: %d upserted, want 50", object, round, res.Upserted)
		}
	}
	return nil
}

func testBadInput(t *testing.T, h *harness) {
	tbl := accountTable()
	if _, err := h.w.Stage(h.ctx, tbl, h.batch("Account")); err == nil {
		t.Error("Stage before EnsureTable succeeded")
	} else {
		errorContains(t, "Stage before EnsureTable", err, "Account")
	}
	h.ensure(tbl)
	for _, tc := range []struct {
		what  string
		batch sfsync.Batch
		parts []string
	}{
		{"a batch without id", sfsync.Batch{Object: "Account"}, []string{"Account", "no id"}},
		{"a batch of another object", sfsync.Batch{ID: "b-other", Object: "Contact"}, []string{"Account", "Contact"}},
	} {
		if s, err := h.w.Stage(h.ctx, tbl, tc.batch); err == nil {
			s.Abort()
			t.Errorf("staging %s succeeded", tc.what)
		} else {
			errorContains(t, "staging "+tc.what, err, tc.parts...)
		}
	}
	bad := tbl
	bad.Fields = bad.Fields[1:]
	errorContains(t, "EnsureTable without Id", h.w.EnsureTable(h.ctx, bad), "Account", "Id")
	h.ensure(tbl)

	write := func(what string, rec sfsync.Record, parts ...string) {
		t.Helper()
		s, err := h.w.Stage(h.ctx, tbl, h.batch("Account"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Abort()
		err = s.Write(h.ctx, []sfsync.Record{rec})
		if err == nil {
			err = s.Close(h.ctx)
		}
		errorContains(t, what, err, parts...)
	}
	write("a decimal that does not fit", sfsync.Record{"001BIG", "x", sfsync.Decimal("12345678901234567.5"), nil, false, at(1)},
		"Account", "AnnualRevenue", "001BIG")
	write("a record without Id", sfsync.Record{nil, "x", nil, nil, false, at(1)}, "Account", "Id")
	write("a short record", sfsync.Record{"001A", "x"}, "Account")
	write("a value of the wrong type", sfsync.Record{"001W", int64(5), nil, nil, "yes?", at(1)}, "Account", "001W", "IsDeleted")

	b := h.batch("Account")
	errorContains(t, "an unknown batch", func() error {
		_, err := h.w.Consolidate(h.ctx, tbl, consolidation(tbl, b, sfsync.DeleteSoft, false, at(1)))
		return err
	}(), "Account", b.ID)
	b = h.stage(tbl, acct{id: "001A", name: "x", mod: 1}.rec())
	errorContains(t, "an unknown delete mode", func() error {
		_, err := h.w.Consolidate(h.ctx, tbl, consolidation(tbl, b, "archive", false, at(1)))
		return err
	}(), "archive")
	consolidate := func(what string, tbl sfsync.Table, c sfsync.Consolidation, parts ...string) {
		t.Helper()
		_, err := h.w.Consolidate(h.ctx, tbl, c)
		if err == nil {
			t.Errorf("consolidating %s succeeded", what)
			return
		}
		errorContains(t, what, err, parts...)
	}
	good := consolidation(tbl, b, sfsync.DeleteSoft, false, at(1))
	noID := good
	noID.Batch.ID = ""
	consolidate("a batch without id", tbl, noID, "Account", "no id")
	other := good
	other.Batch.Object = "Contact"
	consolidate("a batch of another object", tbl, other, "Account", "Contact")
	cursor := good
	cursor.Cursor.Field = "CreatedDate"
	consolidate("a cursor on another field", tbl, cursor, "Account", "CreatedDate", tbl.CursorField)
	missing := tbl
	missing.Object = "Lead"
	lead := good
	lead.Batch.Object = "Lead"
	consolidate("into a table never created", missing, lead, "Lead", "EnsureTable")
	h.wantRows("Account")
}
