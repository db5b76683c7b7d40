package warehousetest

import (
	"testing"

	"github.com/sfsync/sfsync"
)

func testFirstLoad(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	h.ensure(tbl) // idempotent
	if st := h.state("Account"); !st.Cursor.Time.IsZero() || st.Rows != 0 || st.LastRun != nil {
		t.Errorf("state before the first load: %+v, want the zero cursor and no rows", st)
	}
	a := acct{id: "001A", name: "Acme", revenue: "1250000.5", mod: 1}
	b := acct{id: "001B", name: "Globex", mod: 2}
	c := acct{id: "001C", name: "Initech", revenue: "-3", mod: 3}
	res := h.load(tbl, sfsync.DeleteSoft, a.rec(), b.rec(), c.rec())
	h.wantResult("first load", res, sfsync.ConsolidateResult{Staged: 3, Upserted: 3})
	h.wantRows("Account", a.live(), b.live(), c.live())
	st := h.state("Account")
	if !st.Cursor.Time.Equal(at(3)) || st.Cursor.Field != "SystemModstamp" || st.Rows != 3 {
		t.Errorf("state after the first load: cursor %v on %q, %d rows; want %v on SystemModstamp, 3 rows", st.Cursor.Time, st.Cursor.Field, st.Rows, at(3))
	}
}

func testDedupe(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	// 001A: three versions; the latest cursor wins whatever the order.
	// 001B: two versions with one cursor value; the later row wins.
	// 001C: a version without a cursor value loses to one with it.
	res := h.load(tbl, sfsync.DeleteSoft,
		acct{id: "001A", name: "first", mod: 1}.rec(),
		acct{id: "001B", name: "early row", mod: 5}.rec(),
		acct{id: "001A", name: "latest", mod: 3}.rec(),
		acct{id: "001C", name: "with cursor", mod: 2}.rec(),
		acct{id: "001A", name: "middle", mod: 2}.rec(),
		acct{id: "001B", name: "late row", mod: 5}.rec(),
		sfsync.Record{"001C", "no cursor", nil, nil, false, nil},
	)
	h.wantResult("dedupe", res, sfsync.ConsolidateResult{Staged: 7, Upserted: 3})
	h.wantRows("Account",
		acct{id: "001A", name: "latest", mod: 3}.live(),
		acct{id: "001B", name: "late row", mod: 5}.live(),
		acct{id: "001C", name: "with cursor", mod: 2}.live(),
	)
}

func testNoCursor(t *testing.T, h *harness) {
	tbl := sfsync.Table{
		Object: "Setting__mdt",
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "Value__c", Type: sfsync.TypeString},
		},
	}
	h.ensure(tbl)
	row := func(id, v string) map[string]any {
		return map[string]any{"Id": id, "Value__c": v, sfsync.ColDeleted: false, sfsync.ColDeletedAt: nil}
	}
	b := h.stage(tbl, sfsync.Record{"m1", "one"}, sfsync.Record{"m2", "two"}, sfsync.Record{"m1", "one again"})
	res := h.consolidate(tbl, consolidation(tbl, b, sfsync.DeleteSoft, true, at(10)))
	h.wantResult("first full refresh", res, sfsync.ConsolidateResult{Staged: 3, Upserted: 2})
	h.wantRows("Setting__mdt", row("m1", "one again"), row("m2", "two"))

	// Without a cursor the staged row always wins; m2 is gone from the
	// source, so the full refresh flags it as of the extraction.
	b = h.stage(tbl, sfsync.Record{"m1", "changed"})
	res = h.consolidate(tbl, consolidation(tbl, b, sfsync.DeleteSoft, true, at(20)))
	h.wantResult("second full refresh", res, sfsync.ConsolidateResult{Staged: 1, Upserted: 1, Deleted: 1})
	gone := row("m2", "two")
	gone[sfsync.ColDeleted], gone[sfsync.ColDeletedAt] = true, b.ExtractedAt
	h.wantRows("Setting__mdt", row("m1", "changed"), gone)
	if st := h.state("Setting__mdt"); !st.Cursor.Time.Equal(at(20)) || st.Rows != 1 {
		t.Errorf("state: cursor %v, %d rows; want %v, 1 row", st.Cursor.Time, st.Rows, at(20))
	}
}

func testUpdates(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	a := acct{id: "001A", name: "Acme", revenue: "10", mod: 1}
	b := acct{id: "001B", name: "Globex", mod: 1}
	h.load(tbl, sfsync.DeleteSoft, a.rec(), b.rec())

	a2 := acct{id: "001A", name: "Acme Corp", revenue: "11.25", mod: 5}
	c := acct{id: "001C", name: "Initech", mod: 6}
	res := h.load(tbl, sfsync.DeleteSoft, a2.rec(), c.rec())
	h.wantResult("second batch", res, sfsync.ConsolidateResult{Staged: 2, Upserted: 2})
	h.wantRows("Account", a2.live(), b.live(), c.live())

	// A re-read with an equal cursor value overwrites: formula values
	// refreshed without a SystemModstamp change land.
	a3 := acct{id: "001A", name: "Acme Corp (formula refreshed)", revenue: "11.25", mod: 5}
	res = h.load(tbl, sfsync.DeleteSoft, a3.rec())
	h.wantResult("equal-cursor re-read", res, sfsync.ConsolidateResult{Staged: 1, Upserted: 1})
	h.wantRows("Account", a3.live(), b.live(), c.live())
	// A value set to null lands as null.
	a4 := acct{id: "001A", name: "Acme Corp", mod: 7}
	h.load(tbl, sfsync.DeleteSoft, a4.rec())
	h.wantRows("Account", a4.live(), b.live(), c.live())
}

func testStale(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	newer := acct{id: "001A", name: "newer", mod: 10}
	h.load(tbl, sfsync.DeleteSoft, newer.rec())
	// An older version (a replayed or late batch) must not overwrite, and
	// counts as nothing upserted; a new record in the same batch lands.
	other := acct{id: "001B", name: "other", mod: 4}
	b := h.stage(tbl, acct{id: "001A", name: "older", mod: 9}.rec(), other.rec())
	res := h.consolidate(tbl, consolidation(tbl, b, sfsync.DeleteSoft, false, at(9)))
	h.wantResult("stale batch", res, sfsync.ConsolidateResult{Staged: 2, Upserted: 1})
	h.wantRows("Account", newer.live(), other.live())
	// An older delete must not delete a newer row either.
	b = h.stage(tbl, acct{id: "001A", name: "older", deleted: true, mod: 8}.rec())
	h.consolidate(tbl, consolidation(tbl, b, sfsync.DeleteHard, false, at(8)))
	h.wantRows("Account", newer.live(), other.live())
}

func testSoftDelete(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	a := acct{id: "001A", name: "Acme", mod: 1}
	b := acct{id: "001B", name: "Globex", mod: 1}
	h.load(tbl, sfsync.DeleteSoft, a.rec(), b.rec())

	aDel := acct{id: "001A", name: "Acme", deleted: true, mod: 6}
	ghost := acct{id: "001Z", name: "created and deleted between runs", deleted: true, mod: 7}
	res := h.load(tbl, sfsync.DeleteSoft, aDel.rec(), ghost.rec())
	h.wantResult("soft delete", res, sfsync.ConsolidateResult{Staged: 2, Deleted: 2})
	h.wantRows("Account", aDel.row(at(6)), b.live(), ghost.row(at(7)))
	if st := h.state("Account"); st.Rows != 1 {
		t.Errorf("live rows: %d, want 1", st.Rows)
	}
	// Reading the tombstone again changes nothing and deletes nothing new.
	res = h.load(tbl, sfsync.DeleteSoft, aDel.rec())
	h.wantResult("tombstone re-read", res, sfsync.ConsolidateResult{Staged: 1})
	h.wantRows("Account", aDel.row(at(6)), b.live(), ghost.row(at(7)))
}

func testHardDelete(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	a := acct{id: "001A", name: "Acme", mod: 1}
	b := acct{id: "001B", name: "Globex", mod: 1}
	h.load(tbl, sfsync.DeleteHard, a.rec(), b.rec())
	res := h.load(tbl, sfsync.DeleteHard,
		acct{id: "001A", name: "Acme", deleted: true, mod: 6}.rec(),
		acct{id: "001Z", name: "never replicated", deleted: true, mod: 7}.rec())
	h.wantResult("hard delete", res, sfsync.ConsolidateResult{Staged: 2, Deleted: 1})
	h.wantRows("Account", b.live())
	if st := h.state("Account"); st.Rows != 1 {
		t.Errorf("live rows: %d, want 1", st.Rows)
	}
}

func testUndelete(t *testing.T, h *harness) {
	for _, mode := range []sfsync.DeleteMode{sfsync.DeleteSoft, sfsync.DeleteHard} {
		t.Run(string(mode), func(t *testing.T) {
			tbl := accountTable()
			tbl.Object = "Undelete" + string(mode) + "__c"
			h.ensure(tbl)
			a := acct{id: "a01A", name: "Acme", mod: 1}
			b := h.stage(tbl, a.rec())
			h.consolidate(tbl, consolidation(tbl, b, mode, false, at(1)))
			b = h.stage(tbl, acct{id: "a01A", name: "Acme", deleted: true, mod: 2}.rec())
			h.consolidate(tbl, consolidation(tbl, b, mode, false, at(2)))
			back := acct{id: "a01A", name: "Acme (restored)", mod: 3}
			b = h.stage(tbl, back.rec())
			res := h.consolidate(tbl, consolidation(tbl, b, mode, false, at(3)))
			h.wantResult("undelete", res, sfsync.ConsolidateResult{Staged: 1, Upserted: 1})
			want := recordRow(tbl, back.rec())
			want[sfsync.ColDeleted], want[sfsync.ColDeletedAt] = false, nil
			h.wantRows(tbl.Object, want)
		})
	}
}

func testMerge(t *testing.T, h *harness) {
	for _, mode := range []sfsync.DeleteMode{sfsync.DeleteSoft, sfsync.DeleteHard} {
		t.Run(string(mode), func(t *testing.T) {
			tbl := accountTable()
			tbl.Object = "Merge" + string(mode) + "__c"
			h.ensure(tbl)
			win := acct{id: "a01W", name: "Winner", mod: 1}
			l1 := acct{id: "a01L", name: "Loser one", mod: 1}
			l2 := acct{id: "a01M", name: "Loser two", mod: 1}
			b := h.stage(tbl, win.rec(), l1.rec(), l2.rec())
			h.consolidate(tbl, consolidation(tbl, b, mode, false, at(1)))

			// A merge updates the winner and deletes the losers, which
			// queryAll returns with IsDeleted and MasterRecordId set.
			win2 := acct{id: "a01W", name: "Winner (merged)", revenue: "42", mod: 5}
			l1d := acct{id: "a01L", name: "Loser one", master: "a01W", deleted: true, mod: 5}
			l2d := acct{id: "a01M", name: "Loser two", master: "a01W", deleted: true, mod: 5}
			b = h.stage(tbl, win2.rec(), l1d.rec(), l2d.rec())
			res := h.consolidate(tbl, consolidation(tbl, b, mode, false, at(5)))
			h.wantResult("merge", res, sfsync.ConsolidateResult{Staged: 3, Upserted: 1, Deleted: 2})
			rows := []map[string]any{recordRow(tbl, win2.rec())}
			rows[0][sfsync.ColDeleted], rows[0][sfsync.ColDeletedAt] = false, nil
			if mode == sfsync.DeleteSoft {
				for _, l := range []acct{l1d, l2d} {
					r := recordRow(tbl, l.rec())
					r[sfsync.ColDeleted], r[sfsync.ColDeletedAt] = true, at(5)
					rows = append(rows, r)
				}
			}
			h.wantRows(tbl.Object, rows...)
		})
	}
}

// fullRefreshSetup loads A, B, C live and D deleted at minute 2, then
// stages a full refresh holding A (updated) and B (an older, stale
// version). It returns the table, the batch, and A's new version, B and C.
func fullRefreshSetup(h *harness, mode sfsync.DeleteMode) (sfsync.Table, sfsync.Batch, []acct) {
	tbl := accountTable()
	h.ensure(tbl)
	a := acct{id: "001A", name: "Acme", mod: 1}
	b := acct{id: "001B", name: "Globex", mod: 5}
	c := acct{id: "001C", name: "Initech", mod: 1}
	d := acct{id: "001D", name: "Umbrella", mod: 1}
	h.load(tbl, mode, a.rec(), b.rec(), c.rec(), d.rec())
	h.load(tbl, mode, acct{id: "001D", name: "Umbrella", deleted: true, mod: 2}.rec())

	a2 := acct{id: "001A", name: "Acme (renamed)", mod: 6}
	batch := h.stage(tbl, a2.rec(), acct{id: "001B", name: "Globex (stale)", mod: 4}.rec())
	return tbl, batch, []acct{a2, b, c}
}

func testFullRefreshSoft(t *testing.T, h *harness) {
	tbl, batch, rows := fullRefreshSetup(h, sfsync.DeleteSoft)
	a2, b, c := rows[0], rows[1], rows[2]
	res := h.consolidate(tbl, consolidation(tbl, batch, sfsync.DeleteSoft, true, at(6)))
	h.wantResult("full refresh", res, sfsync.ConsolidateResult{Staged: 2, Upserted: 1, Deleted: 1})
	dGone := acct{id: "001D", name: "Umbrella", deleted: true, mod: 2}
	// C is missing from the source: flagged as of the extraction. D was
	// flagged before and keeps its time; the stale B stays live.
	h.wantRows("Account", a2.live(), b.live(), c.row(batch.ExtractedAt), dGone.row(at(2)))
}

func testFullRefreshHard(t *testing.T, h *harness) {
	tbl, batch, rows := fullRefreshSetup(h, sfsync.DeleteHard)
	a2, b := rows[0], rows[1]
	res := h.consolidate(tbl, consolidation(tbl, batch, sfsync.DeleteHard, true, at(6)))
	h.wantResult("full refresh", res, sfsync.ConsolidateResult{Staged: 2, Upserted: 1, Deleted: 1})
	h.wantRows("Account", a2.live(), b.live())
}

func testReplay(t *testing.T, h *harness) {
	tbl := accountTable()
	h.ensure(tbl)
	h.load(tbl, sfsync.DeleteSoft, acct{id: "001A", name: "Acme", mod: 1}.rec(), acct{id: "001B", name: "Globex", mod: 1}.rec())
	b := h.stage(tbl,
		acct{id: "001A", name: "Acme 2", mod: 3}.rec(),
		acct{id: "001B", name: "Globex", deleted: true, mod: 3}.rec(),
		acct{id: "001C", name: "Initech", mod: 3}.rec())
	c := consolidation(tbl, b, sfsync.DeleteSoft, true, at(3))
	first := h.consolidate(tbl, c)
	h.wantResult("first consolidation", first, sfsync.ConsolidateResult{Staged: 3, Upserted: 2, Deleted: 1})
	before := h.rawRows("Account") // synced_at included: a replay must not touch it
	stBefore := h.state("Account")

	for _, mode := range []sfsync.DeleteMode{sfsync.DeleteSoft, sfsync.DeleteHard} {
		c := c
		c.Mode = mode
		c.Cursor.Time = at(99) // a replay stores no cursor either
		res := h.consolidate(tbl, c)
		h.wantResult("replay", res, sfsync.ConsolidateResult{Staged: 3, Replayed: true})
	}
	if diff := cmpRows(before, h.rawRows("Account")); diff != "" {
		t.Errorf("a replay changed the final table (-before +after):\n%s", diff)
	}
	if st := h.state("Account"); !st.Cursor.Time.Equal(stBefore.Cursor.Time) || st.Rows != stBefore.Rows {
		t.Errorf("a replay changed the state: cursor %v → %v, rows %d → %d", stBefore.Cursor.Time, st.Cursor.Time, stBefore.Rows, st.Rows)
	}
}
