package postgres

import (
	"context"

	"github.com/sfsync/sfsync/orchestrator"
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
