package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/orchestrator"
	"github.com/sfsync/sfsync/sqlgen"
)

// The warehouse is the service's orchestrator.Store: object statuses,
// leases and run history live in the control schema next to the cursors.
var _ orchestrator.Store = (*Warehouse)(nil)

// SetupService creates the service's control tables (leases, schedules)
// when missing. Idempotent; run it after Setup.
func (w *Warehouse) SetupService(ctx context.Context) error {
	w.ddl.Lock()
	defer w.ddl.Unlock()
	stmts, err := w.dialect.ServiceTables(w.layout.Control)
	if err != nil {
		return fmt.Errorf("setup service tables: %w", err)
	}
	err = w.inTx(ctx, func(tx *txn) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("setup service tables in %s: %w", w.name(), err)
	}
	return nil
}

// Opener returns an orchestrator.Opener for the database of opts. Each
// session opens the file, creates missing control tables, takes the run
// lock without waiting (a busy file or lock is an error wrapping
// sfsync.ErrBusy), and breaks the leases of servers that stopped (see
// BreakLeases). Closing the session releases the lock and closes the file,
// so that users can query it between runs.
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
		if err := w.SetupService(ctx); err != nil {
			return fail(err)
		}
		if n, err := w.BreakLeases(ctx, owner); err != nil {
			return fail(err)
		} else if n > 0 {
			w.log.Info("broke the leases of a server that stopped", "leases", n)
		}
		return &orchestrator.Session{Warehouse: w, Store: w, Close: func() error {
			release()
			return w.Close()
		}}, nil
	}
}

// exec binds and runs one statement, returning the rows it affected.
func (w *Warehouse) exec(ctx context.Context, q execer, s sqlgen.Statement, vals map[sqlgen.Arg]any) (int64, error) {
	args, err := s.Bind(vals)
	if err != nil {
		return 0, err
	}
	res, err := q.ExecContext(ctx, s.SQL, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// AcquireLease takes object's lease for owner until ttl from now when it is
// free, expired or already owner's, and reports whether owner holds it.
func (w *Warehouse) AcquireLease(ctx context.Context, object, owner string, ttl time.Duration) (bool, error) {
	now := w.now()
	n, err := w.exec(ctx, w.db, w.dialect.AcquireLease(w.layout), map[sqlgen.Arg]any{
		sqlgen.ArgObject: object, sqlgen.ArgOwner: owner, sqlgen.ArgNow: now, sqlgen.ArgExpiresAt: now.Add(ttl)})
	if err != nil {
		return false, fmt.Errorf("acquire lease on %s: %w", object, err)
	}
	return n > 0, nil
}

// RenewLease extends owner's lease on object to ttl from now; false when
// owner no longer holds it.
func (w *Warehouse) RenewLease(ctx context.Context, object, owner string, ttl time.Duration) (bool, error) {
	n, err := w.exec(ctx, w.db, w.dialect.RenewLease(w.layout), map[sqlgen.Arg]any{
		sqlgen.ArgObject: object, sqlgen.ArgOwner: owner, sqlgen.ArgExpiresAt: w.now().Add(ttl)})
	if err != nil {
		return false, fmt.Errorf("renew lease on %s: %w", object, err)
	}
	return n > 0, nil
}

// ReleaseLease frees owner's lease on object.
func (w *Warehouse) ReleaseLease(ctx context.Context, object, owner string) error {
	if _, err := w.exec(ctx, w.db, w.dialect.ReleaseLease(w.layout), map[sqlgen.Arg]any{
		sqlgen.ArgObject: object, sqlgen.ArgOwner: owner}); err != nil {
		return fmt.Errorf("release lease on %s: %w", object, err)
	}
	return nil
}

// BreakLeases frees every lease not held by owner and reports how many.
// DuckDB admits one process per database file and the service keeps the
// file open for as long as it runs objects, so once a process has opened
// the file every other lease holder has stopped: a server killed mid-run
// leaves leases nobody will renew, and its successor breaks them at once
// instead of waiting for them to expire.
func (w *Warehouse) BreakLeases(ctx context.Context, owner string) (int64, error) {
	n, err := w.exec(ctx, w.db, w.dialect.BreakLeases(w.layout), map[sqlgen.Arg]any{sqlgen.ArgOwner: owner})
	if err != nil {
		return 0, fmt.Errorf("break stale leases: %w", err)
	}
	return n, nil
}

// Lease is one row of the leases table.
type Lease struct {
	Object, Owner         string
	AcquiredAt, ExpiresAt time.Time
}

// Leases reads every lease, by object.
func (w *Warehouse) Leases(ctx context.Context) ([]Lease, error) {
	rows, err := w.db.QueryContext(ctx, w.dialect.SelectLeases(w.layout).SQL)
	if err != nil {
		return nil, fmt.Errorf("read leases: %w", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		var l Lease
		if err := rows.Scan(&l.Object, &l.Owner, &l.AcquiredAt, &l.ExpiresAt); err != nil {
			return nil, fmt.Errorf("read leases: %w", err)
		}
		l.AcquiredAt, l.ExpiresAt = l.AcquiredAt.UTC(), l.ExpiresAt.UTC()
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read leases: %w", err)
	}
	return out, nil
}

// SaveStatus inserts or replaces the object's row in the schedules table.
func (w *Warehouse) SaveStatus(ctx context.Context, s orchestrator.Status) error {
	if s.Object == "" {
		return errors.New("save status: no object")
	}
	updated := s.UpdatedAt
	if updated.IsZero() {
		updated = w.now()
	}
	_, err := w.exec(ctx, w.db, w.dialect.SaveSchedule(w.layout), map[sqlgen.Arg]any{
		sqlgen.ArgObject:        s.Object,
		sqlgen.ArgState:         string(s.State),
		sqlgen.ArgScheduleFull:  s.Full,
		sqlgen.ArgAttempt:       int64(s.Attempt),
		sqlgen.ArgNextRunAt:     nullTime(s.NextRun),
		sqlgen.ArgNextAttemptAt: nullTime(s.NextAttempt),
		sqlgen.ArgLastRunID:     nullString(s.RunID),
		sqlgen.ArgOutcome:       nullString(string(s.Outcome)),
		sqlgen.ArgReason:        nullString(s.Reason),
		sqlgen.ArgError:         nullString(s.Error),
		sqlgen.ArgNow:           updated.UTC(),
	})
	if err != nil {
		return fmt.Errorf("save status of %s: %w", s.Object, err)
	}
	return nil
}

// LoadStatuses reads every row of the schedules table, by object.
func (w *Warehouse) LoadStatuses(ctx context.Context) ([]orchestrator.Status, error) {
	rows, err := w.db.QueryContext(ctx, w.dialect.SelectSchedules(w.layout).SQL)
	if err != nil {
		return nil, fmt.Errorf("load statuses: %w", err)
	}
	defer rows.Close()
	var out []orchestrator.Status
	for rows.Next() {
		var s orchestrator.Status
		var state string
		var attempt int64
		var nextRun, nextAttempt sql.NullTime
		var runID, outcome, reason, errText sql.NullString
		var updated time.Time
		if err := rows.Scan(&s.Object, &state, &s.Full, &attempt, &nextRun, &nextAttempt,
			&runID, &outcome, &reason, &errText, &updated); err != nil {
			return nil, fmt.Errorf("load statuses: %w", err)
		}
		s.State, s.Attempt = orchestrator.State(state), int(attempt)
		s.NextRun, s.NextAttempt = timeOf(nextRun), timeOf(nextAttempt)
		s.RunID, s.Outcome = runID.String, sfsync.RunStatus(outcome.String)
		s.Reason, s.Error, s.UpdatedAt = reason.String, errText.String, updated.UTC()
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load statuses: %w", err)
	}
	return out, nil
}

// Runs returns the latest runs of object, or of every object when object
// is "", newest first, at most limit.
func (w *Warehouse) Runs(ctx context.Context, object string, limit int) ([]sfsync.Run, error) {
	st := w.dialect.SelectRuns(w.layout, object != "", limit)
	args, err := st.Bind(map[sqlgen.Arg]any{sqlgen.ArgObject: object})
	if err != nil {
		return nil, err
	}
	rows, err := w.db.QueryContext(ctx, st.SQL, args...)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	defer rows.Close()
	var out []sfsync.Run
	for rows.Next() {
		r, err := scanRunRows(rows)
		if err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	return out, nil
}

// PruneRuns deletes the records of runs that finished before cutoff, and
// of batches consolidated before it, and reports how many runs went.
func (w *Warehouse) PruneRuns(ctx context.Context, cutoff time.Time) (int64, error) {
	var pruned int64
	err := w.inTx(ctx, func(tx *txn) error {
		for i, s := range w.dialect.PruneRuns(w.layout) {
			n, err := w.exec(ctx, tx, s, map[sqlgen.Arg]any{sqlgen.ArgCutoff: cutoff.UTC()})
			if err != nil {
				return err
			}
			if i == 0 {
				pruned = n
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune runs before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	return pruned, nil
}

// scanRunRows reads a run from a row of SelectRuns; scanRun does the same
// for a single-row query.
func scanRunRows(rows *sql.Rows) (sfsync.Run, error) {
	var r sfsync.Run
	var started, finished, from, to, before, after sql.NullTime
	var status string
	var reason, errText sql.NullString
	var updated time.Time
	err := rows.Scan(&r.ID, &r.Object, &r.Full, &started, &finished, &status, &reason, &errText,
		&from, &to, &before, &after, &r.RowsExtracted, &r.RowsUpserted, &r.RowsDeleted, &r.APICalls, &updated)
	if err != nil {
		return r, err
	}
	r.StartedAt, r.FinishedAt = timeOf(started), timeOf(finished)
	r.WindowFrom, r.WindowTo = timeOf(from), timeOf(to)
	r.CursorBefore, r.CursorAfter = timeOf(before), timeOf(after)
	r.Status, r.Reason, r.Error = sfsync.RunStatus(status), reason.String, errText.String
	return r, nil
}
