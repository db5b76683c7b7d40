package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

// Rows is how an engine's driver runs a query expected to return one row,
// inside whatever transaction or pool the caller holds. NoRows reports
// the driver's "no rows" error.
type Rows struct {
	Row    func(ctx context.Context, sql string, args ...any) Scanner
	NoRows func(error) bool
}

// ReadCursor reads an object's stored cursor from the control tables; the
// zero Cursor when it was never replicated.
func ReadCursor(ctx context.Context, q Rows, d sqlgen.Dialect, l sqlgen.Layout, object string) (sfsync.Cursor, error) {
	var field sql.NullString
	var cursor sql.NullTime
	err := q.Row(ctx, d.SelectObject(l).SQL, object).Scan(&field, &cursor)
	switch {
	case q.NoRows(err):
		return sfsync.Cursor{}, nil
	case err != nil:
		return sfsync.Cursor{}, err
	}
	return sfsync.Cursor{Field: field.String, Time: TimeOf(cursor)}, nil
}

// ReadState reads an object's state: its cursor, the live rows of its
// final table when it has one (hasTable), its latest run and the end of
// its latest complete run.
func ReadState(ctx context.Context, q Rows, d sqlgen.Dialect, l sqlgen.Layout, object string, hasTable bool) (sfsync.ObjectState, error) {
	st := sfsync.ObjectState{Object: object}
	var err error
	if st.Cursor, err = ReadCursor(ctx, q, d, l, object); err != nil {
		return st, fmt.Errorf("read cursor: %w", err)
	}
	if hasTable {
		live, err := d.CountLive(l, object)
		if err != nil {
			return st, err
		}
		if err := q.Row(ctx, live.SQL).Scan(&st.Rows); err != nil {
			return st, fmt.Errorf("count rows: %w", err)
		}
	}
	run, err := ScanRun(q.Row(ctx, d.SelectLastRun(l).SQL, object))
	switch {
	case q.NoRows(err):
	case err != nil:
		return st, fmt.Errorf("read last run: %w", err)
	default:
		st.LastRun = &run
	}
	var success sql.NullTime
	if err := q.Row(ctx, d.SelectLastSuccess(l).SQL, object).Scan(&success); err != nil {
		return st, fmt.Errorf("read last success: %w", err)
	}
	st.LastSuccess = TimeOf(success)
	return st, nil
}
