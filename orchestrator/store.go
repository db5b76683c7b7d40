package orchestrator

import (
	"context"
	"time"

	"github.com/sfsync/sfsync"
)

// Store persists what the service needs across restarts, in the
// warehouse's control schema next to the cursors: each object's status
// (state, next run time, retries), one lease per object, and the run
// history. Methods are safe for concurrent use and change nothing when
// they return an error.
type Store interface {
	Leaser
	// LoadStatuses returns every persisted status, by object name.
	LoadStatuses(ctx context.Context) ([]Status, error)
	// SaveStatus inserts or replaces one object's status.
	SaveStatus(ctx context.Context, s Status) error
	// Runs returns the latest runs of object, or of every object when
	// object is "", newest first, at most limit.
	Runs(ctx context.Context, object string, limit int) ([]sfsync.Run, error)
	// PruneRuns deletes the records of runs that finished before cutoff and
	// reports how many went. Runs still in progress are kept.
	PruneRuns(ctx context.Context, cutoff time.Time) (int64, error)
}

// Leaser hands out one lease per object, so that servers sharing a
// warehouse never run the same object at once. A lease names its owner
// and expires unless renewed, so a server that dies frees its objects
// after the lease's time to live.
type Leaser interface {
	// AcquireLease takes object's lease for owner until ttl from now when
	// it is free, expired or already owner's, and reports whether owner
	// holds it.
	AcquireLease(ctx context.Context, object, owner string, ttl time.Duration) (bool, error)
	// RenewLease extends owner's lease to ttl from now; false when owner no
	// longer holds it (it expired and another owner took it).
	RenewLease(ctx context.Context, object, owner string, ttl time.Duration) (bool, error)
	// ReleaseLease frees owner's lease; another owner's is left alone.
	ReleaseLease(ctx context.Context, object, owner string) error
	// Leases reads every lease, live or expired, by object.
	Leases(ctx context.Context) ([]Lease, error)
}

// Lease is one object's lease: who holds it and until when.
type Lease struct {
	Object, Owner         string
	AcquiredAt, ExpiresAt time.Time
}

// Session is the warehouse opened for a stretch of runs. An embedded
// warehouse such as DuckDB allows one writing process per file, so the
// runner opens it only while runs are active and closes it in between,
// when users may query the file.
type Session struct {
	Warehouse sfsync.Warehouse
	Store     Store
	// Close ends the session (for DuckDB: releases the run lock and closes
	// the file).
	Close func() error
}

// Opener opens a session: the warehouse ready to use (Setup done, run lock
// held) and its Store. When another process holds the warehouse it returns
// an error wrapping sfsync.ErrBusy, and the runner tries again later.
type Opener func(ctx context.Context) (*Session, error)
