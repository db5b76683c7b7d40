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
