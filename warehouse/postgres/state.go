package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/warehouse/sqlstore"
)

// State returns the object's cursor, live row count, latest run and the
// end of its latest complete run. An object never replicated has the zero
// Cursor and no rows.
func (w *Warehouse) State(ctx context.Context, object string) (sfsync.ObjectState, error) {
	st, err := w.state(ctx, w.pool, object)
	if err != nil {
		return sfsync.ObjectState{}, w.opError("read state of "+object, err)
	}
	return st, nil
}

// Cursor returns the object's stored cursor; the zero Cursor when it was
// never replicated.
func (w *Warehouse) Cursor(ctx context.Context, object string) (sfsync.Cursor, error) {
	c, err := w.cursor(ctx, w.pool, object)
	if err != nil {
		return c, w.opError("read cursor of "+object, err)
	}
	return c, nil
}

func (w *Warehouse) cursor(ctx context.Context, q querier, object string) (sfsync.Cursor, error) {
	return sqlstore.ReadCursor(ctx, rows(q), w.dialect, w.layout, object)
}

func (w *Warehouse) state(ctx context.Context, q querier, object string) (sfsync.ObjectState, error) {
	cols, err := w.columns(ctx, q, w.layout.Final, object)
	if err != nil {
		return sfsync.ObjectState{Object: object}, err
	}
	return sqlstore.ReadState(ctx, rows(q), w.dialect, w.layout, object, len(cols) > 0)
}

// rows runs single-row queries on q for sqlstore.
func rows(q querier) sqlstore.Rows {
	return sqlstore.Rows{
		Row: func(ctx context.Context, s string, args ...any) sqlstore.Scanner {
			return q.QueryRow(ctx, s, args...)
		},
		NoRows: func(err error) bool { return errors.Is(err, pgx.ErrNoRows) },
	}
}

// States returns the state of every object the control tables know (it
// has consolidated a batch or recorded a run), by name, read in one
// transaction.
func (w *Warehouse) States(ctx context.Context) ([]sfsync.ObjectState, error) {
	var out []sfsync.ObjectState
	err := w.inTx(ctx, func(tx pgx.Tx) error {
		list := w.dialect.ListObjects(w.layout)
		rows, err := tx.Query(ctx, list.SQL)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
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
		return nil, w.opError("read states", err)
	}
	return out, nil
}

// SaveRun inserts or updates the run's record, by run id.
func (w *Warehouse) SaveRun(ctx context.Context, r sfsync.Run) error {
	if err := w.saveRun(ctx, r); err != nil {
		return w.opError(fmt.Sprintf("save run %s of %s", r.ID, r.Object), err)
	}
	return nil
}

func (w *Warehouse) saveRun(ctx context.Context, r sfsync.Run) error {
	vals, err := sqlstore.RunArgs(r, w.now())
	if err != nil {
		return err
	}
	return w.inTx(ctx, func(tx pgx.Tx) error {
		upd := w.dialect.UpdateRun(w.layout)
		args, err := upd.Bind(vals)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, upd.SQL, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() > 0 {
			return nil
		}
		ins := w.dialect.InsertRun(w.layout)
		if args, err = ins.Bind(vals); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, ins.SQL, args...)
		return err
	})
}

// AlteredValue is a staged text value the warehouse stored differently
// from the source (see TextPolicy).
type AlteredValue struct {
	ID     string // the record's Id
	Column string
	Change string // what was done: "stripped of 1 NUL character(s)", ...
}

// AlteredValues lists the values of a batch that staging altered to store
// them, by record Id and column.
func (w *Warehouse) AlteredValues(ctx context.Context, batchID string) ([]AlteredValue, error) {
	rows, err := w.pool.Query(ctx, w.dialect.SelectAlteredValues(w.layout), batchID)
	if err != nil {
		return nil, w.opError("read altered values of batch "+batchID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AlteredValue, error) {
		var a AlteredValue
		err := r.Scan(&a.ID, &a.Column, &a.Change)
		return a, err
	})
	if err != nil {
		return nil, w.opError("read altered values of batch "+batchID, err)
	}
	return out, nil
}

// DuplicateIDs counts the Ids that appear more than once in the object's
// final table. The primary key keeps it at 0; tests and checks assert
// that.
func (w *Warehouse) DuplicateIDs(ctx context.Context, object string) (int64, error) {
	st, err := w.dialect.CountDuplicateIDs(w.layout, object, "Id")
	if err != nil {
		return 0, err
	}
	var n int64
	if err := w.pool.QueryRow(ctx, st.SQL).Scan(&n); err != nil {
		return 0, w.opError("count duplicate ids of "+object, err)
	}
	return n, nil
}

// Rows reads the object's final table, ordered by Id, one map per row
// keyed by column name. Values have the Go types of sfsync.Record (string,
// bool, int64, sfsync.Decimal, float64, time.Time in UTC with dates at
// midnight and times of day on 1970-01-01), or nil.
func (w *Warehouse) Rows(ctx context.Context, object string) ([]map[string]any, error) {
	out, err := w.rows(ctx, object)
	if err != nil {
		return nil, w.opError("read rows of "+object, err)
	}
	return out, nil
}

func (w *Warehouse) rows(ctx context.Context, object string) ([]map[string]any, error) {
	if err := w.dialect.CheckIdentifier(object); err != nil {
		return nil, err
	}
	q := fmt.Sprintf("SELECT * FROM %s ORDER BY %s", w.dialect.Qualified(w.layout.Final, object), w.dialect.Quote("Id"))
	rows, err := w.pool.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	var out []map[string]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(fields))
		for i, fd := range fields {
			v, err := normalize(vals[i])
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", fd.Name, err)
			}
			m[fd.Name] = v
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// StagedRows counts the object's staged rows by batch id.
func (w *Warehouse) StagedRows(ctx context.Context, object string) (map[string]int64, error) {
	if err := w.dialect.CheckIdentifier(object); err != nil {
		return nil, fmt.Errorf("count staged rows of %s: %w", object, err)
	}
	b := w.dialect.Quote(sfsync.ColBatchID)
	q := fmt.Sprintf("SELECT %s, COUNT(*) FROM %s GROUP BY %s", b, w.dialect.Qualified(w.layout.Staging, object), b)
	rows, err := w.pool.Query(ctx, q)
	if err != nil {
		return nil, w.opError("count staged rows of "+object, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, w.opError("count staged rows of "+object, err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, w.opError("count staged rows of "+object, err)
	}
	return out, nil
}

// normalize turns a value pgx decoded into the Go type of sfsync.Record.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, int64, float64:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case pgtype.Numeric:
		if !x.Valid {
			return nil, nil
		}
		if x.NaN || x.InfinityModifier != pgtype.Finite {
			return nil, fmt.Errorf("numeric %v is not a finite number", x)
		}
		r := new(big.Rat).SetInt(x.Int)
		e := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(x.Exp))), nil))
		if x.Exp < 0 {
			r.Quo(r, e)
		} else {
			r.Mul(r, e)
		}
		return sfsync.DecimalFromRat(r)
	case pgtype.Time:
		if !x.Valid {
			return nil, nil
		}
		return time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(x.Microseconds) * time.Microsecond), nil
	case time.Time:
		return x.UTC(), nil
	case []byte:
		return string(x), nil
	}
	return nil, fmt.Errorf("unexpected %T value", v)
}

func abs(n int32) int32 {
	if n < 0 {
		return -n
	}
	return n
}

// addControlColumns adds the columns control tables gained after their
// first release (sqlgen.AddedControlColumns) to existing tables that lack
// them, in Setup's transaction.
func (w *Warehouse) addControlColumns(ctx context.Context, tx pgx.Tx) error {
	added, err := w.dialect.AddedControlColumns(w.layout.Control)
	if err != nil {
		return err
	}
	for _, a := range added {
		cols, err := w.columns(ctx, tx, w.layout.Control, a.Table)
		if err != nil {
			return err
		}
		if findColumn(cols, a.Column) != nil {
			continue
		}
		if _, err := tx.Exec(ctx, a.SQL); err != nil {
			return fmt.Errorf("add column %s to %s.%s: %w", a.Column, w.layout.Control, a.Table, err)
		}
	}
	return nil
}
