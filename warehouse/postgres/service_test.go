package postgres

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/orchestrator"
	"github.com/sfsync/sfsync/warehouse/postgres/pgtest"
)

// TestServiceSessions: servers' sessions share the run lock with each
// other, and exclude `sfsync run` (the exclusive lock), which names the
// server in its busy error; a run excludes new sessions in turn.
func TestServiceSessions(t *testing.T) {
	ctx := t.Context()
	opts := Options{DSN: pgtest.Database(t), MaxConns: 4}
	open := Opener(opts, "server-a")
	a, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Opener(opts, "server-b")(ctx)
	if err != nil {
		t.Fatalf("a second server's session while the first is open: %v", err)
	}
	w, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = w.Lock(ctx, false)
	if !errors.Is(err, sfsync.ErrBusy) || !strings.Contains(err.Error(), "sfsync serve") || !strings.Contains(err.Error(), "POST /api/objects/NAME/run") {
		t.Fatalf("sfsync run's lock while servers are active = %v, want a busy error naming sfsync serve", err)
	}
	for _, s := range []*orchestrator.Session{a, b} {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	release, err := w.Lock(ctx, false)
	if err != nil {
		t.Fatalf("sfsync run's lock once the servers are idle: %v", err)
	}
	if _, err := open(ctx); !errors.Is(err, sfsync.ErrBusy) {
		t.Fatalf("a server's session during a run = %v, want a busy error", err)
	}
	release()
	c, err := open(ctx)
	if err != nil {
		t.Fatalf("a server's session after the run: %v", err)
	}
	// The session's store is set up and usable.
	if ok, err := c.Store.AcquireLease(ctx, "Account", "server-a", time.Minute); err != nil || !ok {
		t.Fatalf("AcquireLease in a fresh session = %v, %v", ok, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConsolidationFencedByLease: a service session consolidates an
// object only while its server holds the object's live lease; without it
// nothing is applied and the error says why.
func TestConsolidationFencedByLease(t *testing.T) {
	ctx := t.Context()
	opts := Options{DSN: pgtest.Database(t), MaxConns: 4}
	sess, err := Opener(opts, "server-a")(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	w := sess.Warehouse.(*Warehouse)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	w.now = func() time.Time { return now }
	store := w.Service() // on the test's clock
	tbl := testTable()
	ready(t, w, tbl)
	consolidate := func(batch string) error {
		b := sfsync.Batch{ID: batch, Object: "Account", ExtractedAt: now}
		stageRecords(t, w, tbl, b, sfsync.Record{"001000000000001AAA", batch, nil, false, now})
		_, err := w.Consolidate(ctx, tbl, sfsync.Consolidation{Batch: b, Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: now}, Mode: sfsync.DeleteSoft})
		return err
	}
	if err := consolidate("no-lease"); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("consolidation without the lease = %v, want ErrLeaseLost", err)
	}
	if rows := finalRows(t, w, "Account"); len(rows) != 0 {
		t.Fatalf("a fenced-off consolidation applied rows: %v", rows)
	}
	if c := cursorOf(t, w, "Account"); !c.IsZero() {
		t.Fatalf("a fenced-off consolidation advanced the cursor to %s", c)
	}
	if ok, err := store.AcquireLease(ctx, "Account", "server-a", time.Hour); err != nil || !ok {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	if err := consolidate("with-lease"); err != nil {
		t.Fatalf("consolidation with the lease: %v", err)
	}
	if rows := finalRows(t, w, "Account"); len(rows) != 1 || rows[0]["Name"] != "with-lease" {
		t.Fatalf("final rows %v, want the leased batch's row", rows)
	}
	// Another server takes the lease over once it expired.
	now = now.Add(2 * time.Hour)
	if ok, err := store.AcquireLease(ctx, "Account", "server-b", time.Hour); err != nil || !ok {
		t.Fatalf("server-b takes the expired lease = %v, %v", ok, err)
	}
	if err := consolidate("lost-lease"); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("consolidation after the lease was taken over = %v, want ErrLeaseLost", err)
	}
	if rows := finalRows(t, w, "Account"); len(rows) != 1 || rows[0]["Name"] != "with-lease" {
		t.Fatalf("final rows %v after a fenced-off consolidation, want them unchanged", rows)
	}
}
