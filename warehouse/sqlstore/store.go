// Package sqlstore is the service's orchestrator.Store written once for
// every engine reachable through database/sql: object leases, per-object
// statuses and run history, kept in the warehouse's control schema next to
// the cursors, with the SQL each engine's sqlgen.Dialect renders.
//
// It also reads run records (ScanRun) for the engines' own state queries,
// so that the runs table has one reader.
package sqlstore

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

var _ orchestrator.Store = (*Store)(nil)

// Execer runs a statement inside a transaction.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Store implements orchestrator.Store on a database. Its fields are set
// once, before use; its methods are safe for concurrent use.
type Store struct {
	DB      *sql.DB
	Dialect sqlgen.Dialect
	Layout  sqlgen.Layout
	// Now is the clock leases and statuses are stamped with (nil:
	// time.Now). Servers sharing a warehouse compare each other's lease
	// times, so their clocks must agree to well within a lease's time to
	// live.
	Now func() time.Time
	// InTx runs fn in a transaction and commits when it returns nil; nil
	// uses a database/sql transaction.
	InTx func(ctx context.Context, fn func(Execer) error) error
	// Wrap explains an error of the operation named what (nil: "what:
	// err"); engines use it to say what a lost connection means.
	Wrap func(what string, err error) error
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) wrap(what string, err error) error {
	if s.Wrap != nil {
		return s.Wrap(what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (s *Store) inTx(ctx context.Context, fn func(Execer) error) error {
	if s.InTx != nil {
		return s.InTx(ctx, fn)
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// exec binds and runs one statement, returning the rows it affected.
func exec(ctx context.Context, q Execer, st sqlgen.Statement, vals map[sqlgen.Arg]any) (int64, error) {
	args, err := st.Bind(vals)
	if err != nil {
		return 0, err
	}
	res, err := q.ExecContext(ctx, st.SQL, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Setup creates the service's control tables (leases, schedules) when
// missing, in one transaction. Idempotent; run it after the warehouse's
// own Setup. Engines where several processes may set up at once run it in
// a transaction that serialises schema changes (see InTx).
func (s *Store) Setup(ctx context.Context) error {
	stmts, err := s.Dialect.ServiceTables(s.Layout.Control)
	if err != nil {
		return fmt.Errorf("setup service tables: %w", err)
	}
	err = s.inTx(ctx, func(tx Execer) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.wrap("setup service tables in schema "+s.Layout.Control, err)
	}
	return nil
}

// AcquireLease takes object's lease for owner until ttl from now when it is
// free, expired or already owner's, and reports whether owner holds it.
// Concurrent takers of one lease are serialised by the row (the upsert's
// conflict clause), so exactly one of them gets it.
func (s *Store) AcquireLease(ctx context.Context, object, owner string, ttl time.Duration) (bool, error) {
	now := s.now()
	n, err := exec(ctx, s.DB, s.Dialect.AcquireLease(s.Layout), map[sqlgen.Arg]any{
		sqlgen.ArgObject: object, sqlgen.ArgOwner: owner, sqlgen.ArgNow: now, sqlgen.ArgExpiresAt: now.Add(ttl)})
	if err != nil {
		return false, s.wrap("acquire lease on "+object, err)
	}
	return n > 0, nil
}

// RenewLease extends owner's lease on object to ttl from now; false when
// owner no longer holds it.
func (s *Store) RenewLease(ctx context.Context, object, owner string, ttl time.Duration) (bool, error) {
	n, err := exec(ctx, s.DB, s.Dialect.RenewLease(s.Layout), map[sqlgen.Arg]any{
		sqlgen.ArgObject: object, sqlgen.ArgOwner: owner, sqlgen.ArgExpiresAt: s.now().Add(ttl)})
	if err != nil {
		return false, s.wrap("renew lease on "+object, err)
	}
	return n > 0, nil
}

// ReleaseLease frees owner's lease on object; another owner's is left
// alone.
func (s *Store) ReleaseLease(ctx context.Context, object, owner string) error {
	if _, err := exec(ctx, s.DB, s.Dialect.ReleaseLease(s.Layout), map[sqlgen.Arg]any{
		sqlgen.ArgObject: object, sqlgen.ArgOwner: owner}); err != nil {
		return s.wrap("release lease on "+object, err)
	}
	return nil
}

// BreakLeases frees every lease not held by owner and reports how many.
// Only an engine that admits one process at a time (DuckDB) may call it,
// on opening: every other holder has then stopped.
func (s *Store) BreakLeases(ctx context.Context, owner string) (int64, error) {
	n, err := exec(ctx, s.DB, s.Dialect.BreakLeases(s.Layout), map[sqlgen.Arg]any{sqlgen.ArgOwner: owner})
	if err != nil {
		return 0, s.wrap("break stale leases", err)
	}
	return n, nil
}

// Lease is one row of the leases table.
type Lease = orchestrator.Lease

// Leases reads every lease, by object.
func (s *Store) Leases(ctx context.Context) ([]Lease, error) {
	rows, err := s.DB.QueryContext(ctx, s.Dialect.SelectLeases(s.Layout).SQL)
	if err != nil {
		return nil, s.wrap("read leases", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		var l Lease
		if err := rows.Scan(&l.Object, &l.Owner, &l.AcquiredAt, &l.ExpiresAt); err != nil {
			return nil, s.wrap("read leases", err)
		}
		l.AcquiredAt, l.ExpiresAt = l.AcquiredAt.UTC(), l.ExpiresAt.UTC()
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("read leases", err)
	}
	return out, nil
}

// SaveStatus inserts or replaces the object's row in the schedules table.
func (s *Store) SaveStatus(ctx context.Context, st orchestrator.Status) error {
	if st.Object == "" {
		return errors.New("save status: no object")
	}
	updated := st.UpdatedAt
	if updated.IsZero() {
		updated = s.now()
	}
	_, err := exec(ctx, s.DB, s.Dialect.SaveSchedule(s.Layout), map[sqlgen.Arg]any{
		sqlgen.ArgObject:        st.Object,
		sqlgen.ArgState:         string(st.State),
		sqlgen.ArgScheduleFull:  st.Full,
		sqlgen.ArgAttempt:       int64(st.Attempt),
		sqlgen.ArgNextRunAt:     NullTime(st.NextRun),
		sqlgen.ArgNextAttemptAt: NullTime(st.NextAttempt),
		sqlgen.ArgLastRunID:     NullString(st.RunID),
		sqlgen.ArgOutcome:       NullString(string(st.Outcome)),
		sqlgen.ArgReason:        NullString(st.Reason),
		sqlgen.ArgError:         NullString(st.Error),
		sqlgen.ArgNow:           updated.UTC(),
	})
	if err != nil {
		return s.wrap("save status of "+st.Object, err)
	}
	return nil
}

// LoadStatuses reads every row of the schedules table, by object.
func (s *Store) LoadStatuses(ctx context.Context) ([]orchestrator.Status, error) {
	rows, err := s.DB.QueryContext(ctx, s.Dialect.SelectSchedules(s.Layout).SQL)
	if err != nil {
		return nil, s.wrap("load statuses", err)
	}
	defer rows.Close()
	var out []orchestrator.Status
	for rows.Next() {
		var st orchestrator.Status
		var state string
		var attempt int64
		var nextRun, nextAttempt sql.NullTime
		var runID, outcome, reason, errText sql.NullString
		var updated time.Time
		if err := rows.Scan(&st.Object, &state, &st.Full, &attempt, &nextRun, &nextAttempt,
			&runID, &outcome, &reason, &errText, &updated); err != nil {
			return nil, s.wrap("load statuses", err)
		}
		st.State, st.Attempt = orchestrator.State(state), int(attempt)
		st.NextRun, st.NextAttempt = TimeOf(nextRun), TimeOf(nextAttempt)
		st.RunID, st.Outcome = runID.String, sfsync.RunStatus(outcome.String)
		st.Reason, st.Error, st.UpdatedAt = reason.String, errText.String, updated.UTC()
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("load statuses", err)
	}
	return out, nil
}

// Runs returns the latest runs of object, or of every object when object
// is "", newest first, at most limit.
func (s *Store) Runs(ctx context.Context, object string, limit int) ([]sfsync.Run, error) {
	st := s.Dialect.SelectRuns(s.Layout, object != "", limit)
	args, err := st.Bind(map[sqlgen.Arg]any{sqlgen.ArgObject: object})
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.QueryContext(ctx, st.SQL, args...)
	if err != nil {
		return nil, s.wrap("read runs", err)
	}
	defer rows.Close()
	var out []sfsync.Run
	for rows.Next() {
		r, err := ScanRun(rows)
		if err != nil {
			return nil, s.wrap("read runs", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("read runs", err)
	}
	return out, nil
}

// PruneRuns deletes the records of runs that finished before cutoff, and
// of batches consolidated before it, in one transaction, and reports how
// many runs went. Runs still in progress are kept.
func (s *Store) PruneRuns(ctx context.Context, cutoff time.Time) (int64, error) {
	var pruned int64
	err := s.inTx(ctx, func(tx Execer) error {
		for i, st := range s.Dialect.PruneRuns(s.Layout) {
			n, err := exec(ctx, tx, st, map[sqlgen.Arg]any{sqlgen.ArgCutoff: cutoff.UTC()})
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
		return 0, s.wrap("prune runs before "+cutoff.UTC().Format(time.RFC3339), err)
	}
	return pruned, nil
}

// Scanner is a row to scan: *sql.Row, *sql.Rows, or another driver's row
// that scans into database/sql's Null types.
type Scanner interface {
	Scan(dest ...any) error
}

// ScanRun reads a run from a row with the columns of sqlgen.RunColumns.
func ScanRun(row Scanner) (sfsync.Run, error) {
	var r sfsync.Run
	var started, finished, from, to, before, after sql.NullTime
	var status string
	var reason, errText sql.NullString
	var updated time.Time
	var bulkJobs sql.NullInt64 // NULL in runs saved before the column existed
	err := row.Scan(&r.ID, &r.Object, &r.Full, &started, &finished, &status, &reason, &errText,
		&from, &to, &before, &after, &r.RowsExtracted, &r.RowsUpserted, &r.RowsDeleted, &r.APICalls, &updated, &bulkJobs)
	if err != nil {
		return r, err
	}
	r.BulkJobs = bulkJobs.Int64
	r.StartedAt, r.FinishedAt = TimeOf(started), TimeOf(finished)
	r.WindowFrom, r.WindowTo = TimeOf(from), TimeOf(to)
	r.CursorBefore, r.CursorAfter = TimeOf(before), TimeOf(after)
	r.Status, r.Reason, r.Error = sfsync.RunStatus(status), reason.String, errText.String
	return r, nil
}

// NullTime binds a zero time as NULL, any other in UTC.
func NullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// NullString binds "" as NULL.
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TimeOf reads a nullable time in UTC, NULL as the zero time.
func TimeOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// RunArgs validates a run record and binds it for sqlgen's run statements
// (InsertRun, UpdateRun), stamped now. A run without a status is running.
func RunArgs(r sfsync.Run, now time.Time) (map[sqlgen.Arg]any, error) {
	if r.ID == "" {
		return nil, errors.New("the run has no id")
	}
	if r.Object == "" {
		return nil, errors.New("the run has no object")
	}
	status := r.Status
	if status == "" {
		status = sfsync.RunRunning
	}
	return map[sqlgen.Arg]any{
		sqlgen.ArgRunID:            r.ID,
		sqlgen.ArgObject:           r.Object,
		sqlgen.ArgRunFull:          r.Full,
		sqlgen.ArgRunStartedAt:     NullTime(r.StartedAt),
		sqlgen.ArgRunFinishedAt:    NullTime(r.FinishedAt),
		sqlgen.ArgRunStatus:        string(status),
		sqlgen.ArgRunReason:        NullString(r.Reason),
		sqlgen.ArgRunError:         NullString(r.Error),
		sqlgen.ArgRunWindowFrom:    NullTime(r.WindowFrom),
		sqlgen.ArgRunWindowTo:      NullTime(r.WindowTo),
		sqlgen.ArgRunCursorBefore:  NullTime(r.CursorBefore),
		sqlgen.ArgRunCursorAfter:   NullTime(r.CursorAfter),
		sqlgen.ArgRunRowsExtracted: r.RowsExtracted,
		sqlgen.ArgRunRowsUpserted:  r.RowsUpserted,
		sqlgen.ArgRunRowsDeleted:   r.RowsDeleted,
		sqlgen.ArgRunAPICalls:      r.APICalls,
		sqlgen.ArgRunBulkJobs:      r.BulkJobs,
		sqlgen.ArgNow:              now,
	}, nil
}
