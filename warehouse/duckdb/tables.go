package duckdb

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
	"github.com/sfsync/sfsync/warehouse/sqlstore"
)

// colType is a column type as DuckDB reports it, reduced to the value
// kind sfsync writes into it.
type colType = sqlstore.ColType

func parseColType(s string) colType {
	t := colType{SQL: s, Kind: sfsync.KindCompound}
	u := strings.ToUpper(strings.TrimSpace(s))
	switch {
	case u == "VARCHAR" || strings.HasPrefix(u, "VARCHAR("):
		t.Kind = sfsync.KindString
	case u == "BOOLEAN":
		t.Kind = sfsync.KindBool
	case u == "BIGINT" || u == "INTEGER" || u == "SMALLINT" || u == "TINYINT":
		t.Kind = sfsync.KindInt
	case strings.HasPrefix(u, "DECIMAL(") && strings.HasSuffix(u, ")"):
		p, sc, ok := strings.Cut(u[len("DECIMAL("):len(u)-1], ",")
		pi, err1 := strconv.Atoi(strings.TrimSpace(p))
		si, err2 := strconv.Atoi(strings.TrimSpace(sc))
		if ok && err1 == nil && err2 == nil {
			t.Kind, t.Precision, t.Scale = sfsync.KindDecimal, pi, si
		}
	case u == "DOUBLE" || u == "FLOAT" || u == "REAL":
		t.Kind = sfsync.KindFloat
	case u == "DATE":
		t.Kind = sfsync.KindDate
	case u == "TIME":
		t.Kind = sfsync.KindTime
	case u == "TIMESTAMP WITH TIME ZONE" || u == "TIMESTAMPTZ" || u == "TIMESTAMP":
		t.Kind = sfsync.KindDateTime
	}
	return t
}

type column struct {
	name string
	typ  colType
}

// columns lists a table's columns in order; none when it does not exist.
// Names compare case-insensitively, as DuckDB's identifiers do.
func (w *Warehouse) columns(ctx context.Context, q execer, schema, table string) ([]column, error) {
	rows, err := q.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
WHERE table_catalog = current_database() AND lower(table_schema) = lower($1) AND lower(table_name) = lower($2)
ORDER BY ordinal_position`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", schema, table, err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("read columns of %s.%s: %w", schema, table, err)
		}
		cols = append(cols, column{name: name, typ: parseColType(typ)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", schema, table, err)
	}
	return cols, nil
}

func findColumn(cols []column, name string) *column {
	for i := range cols {
		if strings.EqualFold(cols[i].name, name) {
			return &cols[i]
		}
	}
	return nil
}

// EnsureTable creates t's final and staging tables, or evolves them:
// columns are added for new fields, a decimal column is widened when the
// field's precision or scale grew, and nothing is dropped or narrowed. A
// field whose type changed incompatibly keeps its column and type (a
// warning is logged); staging follows the final table's types, and staged
// values are converted to them.
func (w *Warehouse) EnsureTable(ctx context.Context, t sfsync.Table) error {
	if err := w.ensureTable(ctx, t); err != nil {
		return fmt.Errorf("ensure tables of %s: %w", t.Object, err)
	}
	return nil
}

func (w *Warehouse) ensureTable(ctx context.Context, t sfsync.Table) error {
	want, err := w.dialect.FinalColumns(t)
	if err != nil {
		return err
	}
	w.ddl.Lock()
	defer w.ddl.Unlock()
	return w.inTx(ctx, func(tx *txn) error {
		for _, s := range []string{w.layout.Final, w.layout.Staging} {
			q, err := w.dialect.CreateSchema(s)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("create schema %s: %w", s, err)
			}
		}
		final, err := w.evolve(ctx, tx, w.layout.Final, t.Object, want)
		if err != nil {
			return err
		}
		// Staging columns take the final table's actual types, so that
		// consolidation copies values without casts.
		staged, err := w.dialect.StagingColumns(t)
		if err != nil {
			return err
		}
		for i := range staged {
			if c := findColumn(final, staged[i].Name); c != nil {
				staged[i].Type = c.typ.SQL
			}
		}
		if _, err := w.evolve(ctx, tx, w.layout.Staging, t.Object, staged); err != nil {
			return err
		}
		return nil
	})
}

// evolve creates schema.table with the wanted columns, or adds the missing
// ones and reconciles types, and returns the resulting columns.
func (w *Warehouse) evolve(ctx context.Context, tx *txn, schema, table string, want []sqlgen.Column) ([]column, error) {
	have, err := w.columns(ctx, tx, schema, table)
	if err != nil {
		return nil, err
	}
	if len(have) == 0 {
		q, err := w.dialect.CreateTable(schema, table, want)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("create table %s.%s: %w", schema, table, err)
		}
		w.log.Info("created table", "schema", schema, "table", table, "columns", len(want))
		return w.columns(ctx, tx, schema, table)
	}
	staging := schema == w.layout.Staging
	for _, c := range want {
		cur := findColumn(have, c.Name)
		if cur == nil {
			// DuckDB cannot add a column with a constraint; the default
			// fills existing rows and the consolidation always writes it.
			add := c
			add.NotNull = false
			q, err := w.dialect.AddColumn(schema, table, add)
			if err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("add column %s to %s.%s: %w", c.Name, schema, table, err)
			}
			w.log.Info("added column", "schema", schema, "table", table, "column", c.Name, "type", c.Type)
			continue
		}
		wantType := parseColType(c.Type)
		if sqlstore.SameType(cur.typ, wantType) {
			continue
		}
		newType, warning := sqlstore.Retype(w.dialect, staging, cur.typ, wantType)
		if warning != "" {
			w.log.Warn(warning, "table", table, "column", cur.name, "column_type", cur.typ.SQL, "field_type", c.Type)
		}
		if newType == "" {
			continue
		}
		q, err := w.dialect.AlterColumnTypeSQL(schema, table, cur.name, newType)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("change column %s of %s.%s from %s to %s: %w", cur.name, schema, table, cur.typ.SQL, newType, err)
		}
		w.log.Info("changed column type", "schema", schema, "table", table, "column", cur.name, "from", cur.typ.SQL, "to", newType)
	}
	return w.columns(ctx, tx, schema, table)
}
