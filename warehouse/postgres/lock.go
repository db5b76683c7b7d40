package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sfsync/sfsync"
)

// lockPoll is how often a waiting Lock retries.
const lockPoll = 250 * time.Millisecond

// Lease timing of the lease lock: a lease not renewed for leaseTTL is
// abandoned (its holder died) and may be taken over.
const (
	leaseTTL   = 2 * time.Minute
	leaseRenew = leaseTTL / 4
)

// Lock takes the warehouse-wide run lock. Two holders never run at once,
// whether they are processes or goroutines of one process.
//
// PostgreSQL: a session advisory lock, keyed by the control schema, taken
// with pg_try_advisory_lock on a connection of its own that is held until
// release. The server frees it when that connection ends, so a holder that
// dies frees it too.
//
// Redshift, which has no advisory locks: a lease row in the control table
// run_lock, renewed every 30 seconds while held; a lease not renewed for
// two minutes is taken over.
//
// When the lock is held, Lock returns an error wrapping sfsync.ErrBusy that
// says who holds it and what to do, or, if wait is set, retries until it
// gets the lock or ctx is done (the error then wraps both ErrBusy and
// ctx.Err()). release is safe to call more than once.
func (w *Warehouse) Lock(ctx context.Context, wait bool) (release func(), err error) {
	announced := false
	for {
		release, holder, err := w.tryLock(ctx)
		if err != nil {
			if ctx.Err() != nil && wait {
				return nil, fmt.Errorf("%w: %w", w.busyError(holder), ctx.Err())
			}
			return nil, w.opError("lock warehouse", err)
		}
		if release != nil {
			return release, nil
		}
		busy := w.busyError(holder)
		if !wait {
			return nil, busy
		}
		if !announced {
			w.log.Info("waiting for the run lock", "holder", holder)
			announced = true
		}
		t := time.NewTimer(lockPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: %w", busy, ctx.Err())
		case <-t.C:
		}
	}
}

func (w *Warehouse) busyError(holder string) error {
	if holder == "" {
		holder = "another sfsync process"
	}
	if strings.Contains(holder, "sfsync serve") {
		return fmt.Errorf("%w: %s holds the run lock of %s (control schema %s): sfsync serve is running objects there; trigger runs through its API (POST /api/objects/NAME/run) instead, or run with --wait to start when it is idle",
			sfsync.ErrBusy, holder, w.target, w.layout.Control)
	}
	return fmt.Errorf("%w: %s holds the run lock of %s (control schema %s); wait for that run to finish, or run with --wait to start when it does",
		sfsync.ErrBusy, holder, w.target, w.layout.Control)
}

func (w *Warehouse) tryLock(ctx context.Context) (release func(), holder string, err error) {
	if w.flavor.Lock == LockLease {
		return w.tryLease(ctx)
	}
	return w.tryAdvisory(ctx, false)
}

// runLockKey is the advisory lock key of the run lock: one per control
// schema, so warehouses sharing a database with other control schemas do
// not exclude each other.
func (w *Warehouse) runLockKey() int64 {
	return lockKey("run", w.layout.Control)
}

// tryAdvisory takes the run lock's advisory lock on a connection of its
// own: exclusively for a run, shared for a service (servers share the
// lock among themselves and exclude each other per object with leases;
// a run excludes them all).
func (w *Warehouse) tryAdvisory(ctx context.Context, shared bool) (func(), string, error) {
	cfg := w.cfg.ConnConfig.Copy()
	try, unlock := "pg_try_advisory_lock", "pg_advisory_unlock"
	if shared {
		try, unlock = "pg_try_advisory_lock_shared", "pg_advisory_unlock_shared"
		cfg.RuntimeParams["application_name"] = cfg.RuntimeParams["application_name"] + " serve"
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT "+try+"($1)", w.runLockKey()).Scan(&ok); err != nil {
		conn.Close(context.Background())
		return nil, "", err
	}
	if !ok {
		holder := w.advisoryHolder(ctx, conn)
		conn.Close(context.Background())
		return nil, holder, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// Closing the session frees the lock even if the unlock
			// cannot be sent.
			_, _ = conn.Exec(ctx, "SELECT "+unlock+"($1)", w.runLockKey())
			conn.Close(ctx)
		})
	}, "", nil
}

// advisoryHolder describes the session holding the run lock, for the
// busy error.
func (w *Warehouse) advisoryHolder(ctx context.Context, conn *pgx.Conn) string {
	key := uint64(w.runLockKey())
	var pid int
	var app, addr *string
	var since *time.Time
	err := conn.QueryRow(ctx, `SELECT a.pid, a.application_name, host(a.client_addr), a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1
LIMIT 1`, int64(key>>32), int64(key&0xffffffff)).Scan(&pid, &app, &addr, &since)
	if err != nil {
		return ""
	}
	s := fmt.Sprintf("server process %d", pid)
	if app != nil && *app != "" {
		s += fmt.Sprintf(" (application %s", *app)
		if addr != nil && *addr != "" {
			s += " from " + *addr
		}
		if since != nil {
			s += ", connected " + since.UTC().Format(time.RFC3339)
		}
		s += ")"
	}
	return s
}

// tryLease takes the lease in the run_lock table unless a live lease
// exists, and keeps it renewed until release.
func (w *Warehouse) tryLease(ctx context.Context) (func(), string, error) {
	st := w.dialect.RunLeaseStatements(w.layout)
	me := leaseHolder()
	now := w.now()
	var holder string
	var acquired, renewed time.Time
	err := w.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, st.Expire, now.Add(-leaseTTL)); err != nil {
			return err
		}
		for attempt := 1; ; attempt++ {
			if _, err := tx.Exec(ctx, st.Take, me, now); err != nil {
				return err
			}
			err := tx.QueryRow(ctx, st.Holder).Scan(&holder, &acquired, &renewed)
			if errors.Is(err, pgx.ErrNoRows) && attempt < 3 {
				// The holder released the lease between the two
				// statements (each sees the latest commit): take it again.
				continue
			}
			return err
		}
	})
	if err != nil {
		if isSerialization(err) {
			// Another taker won the race.
			return nil, "", nil
		}
		return nil, "", err
	}
	if holder != me {
		return nil, fmt.Sprintf("%s (lease taken %s, renewed %s)", holder, acquired.UTC().Format(time.RFC3339), renewed.UTC().Format(time.RFC3339)), nil
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(leaseRenew)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(context.Background(), leaseRenew)
				tag, err := w.pool.Exec(rctx, st.Renew, w.now(), me)
				cancel()
				switch {
				case err != nil:
					w.log.Warn("could not renew the run lock's lease", "err", err)
				case tag.RowsAffected() == 0:
					w.log.Error("the run lock's lease was lost (not renewed in time and taken over); another run may start", "holder", me)
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := w.pool.Exec(rctx, st.Release, me); err != nil {
				w.log.Warn("could not release the run lock's lease; it expires by itself", "err", err, "ttl", leaseTTL)
			}
		})
	}, "", nil
}

// leaseHolder names this holder: host, process and a random part, so that
// two Locks in one process differ.
func leaseHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("sfsync on %s, pid %d (%s)", host, os.Getpid(), hex.EncodeToString(b))
}

// isSerialization reports a serialization failure or a unique violation:
// two lease takers raced and this one lost.
func isSerialization(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	// Redshift reports "1023: Serializable isolation violation" as an
	// internal error.
	return pe.Code == "40001" || pe.Code == "23505" || strings.Contains(pe.Message, "Serializable isolation violation") || strings.Contains(pe.Detail, "Serializable isolation violation")
}
