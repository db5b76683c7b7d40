package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/warehouse/sqlstore"
)

// State returns the object's cursor, live row count, latest run and the
// end of its latest complete run. An object never replicated has the zero
// Cursor and no rows.
func (w *Warehouse) State(ctx context.Context, object string) (sfsync.ObjectState, error) {
	st, err := w.state(ctx, w.db, object)
	if err != nil {
		return sfsync.ObjectState{}, fmt.Errorf("read state of %s: %w", object, err)
	}
	return st, nil
}

// Cursor returns the object's stored cursor; the zero Cursor when it was
// never replicated.
func (w *Warehouse) Cursor(ctx context.Context, object string) (sfsync.Cursor, error) {
	c, err := w.cursor(ctx, w.db, object)
	if err != nil {
		return c, fmt.Errorf("read cursor of %s: %w", object, err)
	}
	return c, nil
}

func (w *Warehouse) cursor(ctx context.Context, q execer, object string) (sfsync.Cursor, error) {
	return sqlstore.ReadCursor(ctx, rows(q), w.dialect, w.layout, object)
}

func (w *Warehouse) state(ctx context.Context, q execer, object string) (sfsync.ObjectState, error) {
	cols, err := w.columns(ctx, q, w.layout.Final, object)
	if err != nil {
		return sfsync.ObjectState{Object: object}, err
	}
	return sqlstore.ReadState(ctx, rows(q), w.dialect, w.layout, object, len(cols) > 0)
}

// rows runs single-row queries on q for sqlstore.
func rows(q execer) sqlstore.Rows {
	return sqlstore.Rows{
		Row: func(ctx context.Context, s string, args ...any) sqlstore.Scanner {
			return q.QueryRowContext(ctx, s, args...)
		},
		NoRows: func(err error) bool { return errors.Is(err, sql.ErrNoRows) },
	}
}

// States returns the state of every object the control tables know (it
// has consolidated a batch or recorded a run), by name.
func (w *Warehouse) States(ctx context.Context) ([]sfsync.ObjectState, error) {
	var out []sfsync.ObjectState
	err := w.inTx(ctx, func(tx *txn) error {
		list := w.dialect.ListObjects(w.layout)
		rows, err := tx.QueryContext(ctx, list.SQL)
		if err != nil {
			return err
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			names = append(names, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, n := range names {
			st, err := w.state(ctx, tx, n)
			if err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
			out = append(out, st)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read states: %w", err)
	}
	return out, nil
}

// SaveRun inserts or updates the run's record, by run id.
func (w *Warehouse) SaveRun(ctx context.Context, r sfsync.Run) error {
	if err := w.saveRun(ctx, r); err != nil {
		return fmt.Errorf("save run %s of %s: %w", r.ID, r.Object, err)
	}
	return nil
}

func (w *Warehouse) saveRun(ctx context.Context, r sfsync.Run) error {
	vals, err := sqlstore.RunArgs(r, w.now())
	if err != nil {
		return err
	}
	return w.inTx(ctx, func(tx *txn) error {
		upd := w.dialect.UpdateRun(w.layout)
		args, err := upd.Bind(vals)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, upd.SQL, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		ins := w.dialect.InsertRun(w.layout)
		if args, err = ins.Bind(vals); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, ins.SQL, args...)
		return err
	})
}

// DuplicateIDs counts the Ids that appear more than once in the object's
// final table. Consolidation keeps it at 0; tests and checks assert that.
func (w *Warehouse) DuplicateIDs(ctx context.Context, object string) (int64, error) {
	st, err := w.dialect.CountDuplicateIDs(w.layout, object, "Id")
	if err != nil {
		return 0, err
	}
	var n int64
	if err := w.db.QueryRowContext(ctx, st.SQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("count duplicate ids of %s: %w", object, err)
	}
	return n, nil
}

// Rows reads the object's final table, ordered by Id, one map per row
// keyed by column name. Values have the Go types of sfsync.Record (string,
// bool, int64, sfsync.Decimal, float64, time.Time in UTC with dates at
// midnight and times of day on 1970-01-01), or nil.
func (w *Warehouse) Rows(ctx context.Context, object string) ([]map[string]any, error) {
	if err := w.dialect.CheckIdentifier(object); err != nil {
		return nil, fmt.Errorf("read rows of %s: %w", object, err)
	}
	q := fmt.Sprintf("SELECT * FROM %s ORDER BY %s", w.dialect.Qualified(w.layout.Final, object), w.dialect.Quote("Id"))
	rows, err := w.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read rows of %s: %w", object, err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("read rows of %s: %w", object, err)
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read rows of %s: %w", object, err)
		}
		m := make(map[string]any, len(types))
		for i, ct := range types {
			v, err := normalize(vals[i], ct.DatabaseTypeName())
			if err != nil {
				return nil, fmt.Errorf("read rows of %s: column %s: %w", object, ct.Name(), err)
			}
			m[ct.Name()] = v
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows of %s: %w", object, err)
	}
	return out, nil
}

// StagedRows counts the object's staged rows by batch id.
func (w *Warehouse) StagedRows(ctx context.Context, object string) (map[string]int64, error) {
	if err := w.dialect.CheckIdentifier(object); err != nil {
		return nil, fmt.Errorf("count staged rows of %s: %w", object, err)
	}
	b := w.dialect.Quote(sfsync.ColBatchID)
	q := fmt.Sprintf("SELECT %s, COUNT(*) FROM %s GROUP BY %s", b, w.dialect.Qualified(w.layout.Staging, object), b)
	rows, err := w.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("count staged rows of %s: %w", object, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("count staged rows of %s: %w", object, err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count staged rows of %s: %w", object, err)
	}
	return out, nil
}

// normalize turns a scanned DuckDB value into the Go type of sfsync.Record.
func normalize(v any, dbType string) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, int64, float64:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case *big.Int:
		if !x.IsInt64() {
			return nil, fmt.Errorf("integer %s does not fit 64 bits", x)
		}
		return x.Int64(), nil
	case duckdb.Decimal:
		r := new(big.Rat).SetFrac(x.Value, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil))
		return sfsync.DecimalFromRat(r)
	case time.Time:
		x = x.UTC()
		if strings.EqualFold(dbType, "TIME") {
			return time.Date(1970, 1, 1, x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), time.UTC), nil
		}
		return x, nil
	case []byte:
		return string(x), nil
	}
	return nil, fmt.Errorf("unexpected %T value", v)
}

// addControlColumns adds the columns control tables gained after their
// first release (sqlgen.AddedControlColumns) to existing tables that lack
// them, in Setup's transaction.
func (w *Warehouse) addControlColumns(ctx context.Context, q execer) error {
	added, err := w.dialect.AddedControlColumns(w.layout.Control)
	if err != nil {
		return err
	}
	for _, a := range added {
		cols, err := w.columns(ctx, q, w.layout.Control, a.Table)
		if err != nil {
			return err
		}
		if findColumn(cols, a.Column) != nil {
			continue
		}
		if _, err := q.ExecContext(ctx, a.SQL); err != nil {
			return fmt.Errorf("add column %s to %s.%s: %w", a.Column, w.layout.Control, a.Table, err)
		}
	}
	return nil
}
