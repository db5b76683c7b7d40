package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfsync/sfsync/orchestrator"
	"github.com/sfsync/sfsync/sqlgen"
	"github.com/sfsync/sfsync/warehouse/sqlstore"
)

// Service returns the service's orchestrator.Store on this warehouse:
// object statuses, leases and run history in the control schema. Several
// servers may share one database: a lease is a row that one upsert takes,
// so concurrent takers are serialised by the row lock and exactly one
// wins. Lease times come from each server's clock, which must agree
// across servers to well within the lease's time to live (2 minutes by
// default). Create its tables with its Setup, which serialises with other
// processes' schema changes.
func (w *Warehouse) Service() *sqlstore.Store {
	return &sqlstore.Store{
		DB: w.db, Dialect: w.dialect, Layout: w.layout, Now: w.now, Wrap: w.opError,
		InTx: func(ctx context.Context, fn func(sqlstore.Execer) error) error {
			tx, err := w.db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if w.flavor.Lock == LockAdvisory {
				if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", w.ddlLockKey()); err != nil {
					_ = tx.Rollback()
					return err
				}
			}
			if err := fn(tx); err != nil {
				_ = tx.Rollback()
				return err
			}
			return tx.Commit()
		},
	}
}

// Opener returns an orchestrator.Opener for the PostgreSQL database of
// opts, for `sfsync serve`. Each session connects, creates missing control
// tables and takes the run lock in shared mode: any number of servers run
// at once, each object under a lease so that no two run it together,
// while `sfsync run`, which takes the lock exclusively, waits for them to
// be idle (and they for it). Closing the session releases the lock and
// the connections. Leases of a server that died expire after their time
// to live; another server then takes them over.
func Opener(opts Options, owner string) orchestrator.Opener {
	return func(ctx context.Context) (*orchestrator.Session, error) {
		w, err := Open(ctx, opts)
		if err != nil {
			return nil, err
		}
		release, holder, err := w.tryAdvisory(ctx, true)
		if err != nil {
			w.Close()
			return nil, w.opError("lock warehouse", err)
		}
		if release == nil {
			w.Close()
			return nil, w.busyError(holder)
		}
		w.fence = owner
		fail := func(err error) (*orchestrator.Session, error) {
			release()
			w.Close()
			return nil, err
		}
		if err := w.Setup(ctx); err != nil {
			return fail(err)
		}
		store := w.Service()
		if err := store.Setup(ctx); err != nil {
			return fail(err)
		}
		return &orchestrator.Session{Warehouse: w, Store: store, Close: func() error {
			release()
			return w.Close()
		}}, nil
	}
}

// ErrLeaseLost fails a consolidation of a server that no longer holds the
// object's lease: another server may be running the object, so the batch
// is not consolidated (it is left to the lease holder's run).
var ErrLeaseLost = errors.New("this server no longer holds the object's lease")

// holdLease fences a consolidation of a service session: it proceeds only
// while this server holds the object's lease, and keeps anyone from
// taking the lease over until the transaction ends. A server that stalled
// past its lease (a long pause, a network partition) therefore cannot
// consolidate over the run of the server that took the object over.
func (w *Warehouse) holdLease(ctx context.Context, tx pgx.Tx, object string, now time.Time) error {
	st := w.dialect.HoldLease(w.layout)
	args, err := st.Bind(map[sqlgen.Arg]any{sqlgen.ArgObject: object, sqlgen.ArgOwner: w.fence, sqlgen.ArgNow: now})
	if err != nil {
		return err
	}
	var one int
	err = tx.QueryRow(ctx, st.SQL, args...).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w (%s, owner %s); the batch was not consolidated", ErrLeaseLost, object, w.fence)
	case err != nil:
		return fmt.Errorf("check the object's lease: %w", err)
	}
	return nil
}
