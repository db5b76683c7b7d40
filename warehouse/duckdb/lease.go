package duckdb

import (
	"context"

	"github.com/sfsync/sfsync/orchestrator"
	"github.com/sfsync/sfsync/warehouse/sqlstore"
)

// Service returns the service's orchestrator.Store on this warehouse:
// object statuses, leases and run history in the control schema next to
// the cursors. Create its tables with its Setup.
func (w *Warehouse) Service() *sqlstore.Store {
	return &sqlstore.Store{
		DB: w.db, Dialect: w.dialect, Layout: w.layout, Now: w.now,
		InTx: func(ctx context.Context, fn func(sqlstore.Execer) error) error {
			w.ddl.Lock()
			defer w.ddl.Unlock()
			return w.inTx(ctx, func(tx *txn) error { return fn(tx) })
		},
	}
}

// Opener returns an orchestrator.Opener for the database of opts. Each
// session opens the file, creates missing control tables, takes the run
// lock without waiting (a busy file or lock is an error wrapping
// sfsync.ErrBusy), and breaks the leases of servers that stopped: DuckDB
// admits one process per database file and the service keeps the file
// open for as long as it runs objects, so once a process has opened the
// file every other lease holder has stopped, and its successor breaks
// their leases at once instead of waiting for them to expire. Closing the
// session releases the lock and closes the file, so that users can query
// it between runs.
func Opener(opts Options, owner string) orchestrator.Opener {
	return func(ctx context.Context) (*orchestrator.Session, error) {
		w, err := Open(ctx, opts)
		if err != nil {
			return nil, err
		}
		release, err := w.Lock(ctx, false)
		if err != nil {
			w.Close()
			return nil, err
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
		if n, err := store.BreakLeases(ctx, owner); err != nil {
			return fail(err)
		} else if n > 0 {
			w.log.Info("broke the leases of a server that stopped", "leases", n)
		}
		return &orchestrator.Session{Warehouse: w, Store: store, Close: func() error {
			release()
			return w.Close()
		}}, nil
	}
}
