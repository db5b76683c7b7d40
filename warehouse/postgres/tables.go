package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
	"github.com/sfsync/sfsync/warehouse/sqlstore"
)

// colType is a column type as information_schema reports it, reduced to
// the value kind sfsync writes into it.
type colType = sqlstore.ColType

// parseColType reads information_schema.columns' data_type with its
// length, precision and scale (nil when the type has none).
func parseColType(dataType string, length, precision, scale *int32) colType {
	t := colType{SQL: strings.ToUpper(dataType), Kind: sfsync.KindCompound}
	switch strings.ToLower(dataType) {
	case "text":
		t.SQL, t.Kind = "TEXT", sfsync.KindString
	case "character varying":
		t.SQL, t.Kind = "VARCHAR", sfsync.KindString
		if length != nil {
			t.SQL = fmt.Sprintf("VARCHAR(%d)", *length)
		}
	case "boolean":
		t.SQL, t.Kind = "BOOLEAN", sfsync.KindBool
	case "bigint", "integer", "smallint":
		t.Kind = sfsync.KindInt
	case "numeric":
		if precision != nil && scale != nil {
			t.Kind, t.Precision, t.Scale = sfsync.KindDecimal, int(*precision), int(*scale)
			t.SQL = fmt.Sprintf("NUMERIC(%d,%d)", t.Precision, t.Scale)
		}
	case "double precision", "real":
		t.Kind = sfsync.KindFloat
	case "date":
		t.SQL, t.Kind = "DATE", sfsync.KindDate
	case "time without time zone":
		t.SQL, t.Kind = "TIME", sfsync.KindTime
	case "timestamp with time zone":
		t.SQL, t.Kind = "TIMESTAMPTZ", sfsync.KindDateTime
	case "timestamp without time zone":
		t.SQL, t.Kind = "TIMESTAMP", sfsync.KindDateTime
	}
	return t
}

// wantType parses a type as the dialect renders it ("NUMERIC(18,2)",
// "VARCHAR(65535)", "DOUBLE PRECISION").
func wantType(sql string) colType {
	u := strings.ToUpper(strings.TrimSpace(sql))
	t := colType{SQL: sql, Kind: sfsync.KindCompound}
	switch {
	case u == "TEXT" || strings.HasPrefix(u, "VARCHAR"):
		t.Kind = sfsync.KindString
	case u == "BOOLEAN":
		t.Kind = sfsync.KindBool
	case u == "BIGINT":
		t.Kind = sfsync.KindInt
	case strings.HasPrefix(u, "NUMERIC(") || strings.HasPrefix(u, "DECIMAL("):
		var p, s int
		if _, err := fmt.Sscanf(u[strings.IndexByte(u, '('):], "(%d,%d)", &p, &s); err == nil {
			t.Kind, t.Precision, t.Scale = sfsync.KindDecimal, p, s
		}
	case u == "DOUBLE PRECISION":
		t.Kind = sfsync.KindFloat
	case u == "DATE":
		t.Kind = sfsync.KindDate
	case u == "TIME":
		t.Kind = sfsync.KindTime
	case u == "TIMESTAMPTZ":
		t.Kind = sfsync.KindDateTime
	}
	return t
}

type column struct {
	name string
	typ  colType
}

// querier runs queries: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// columns lists a table's columns in order; none when it does not exist.
func (w *Warehouse) columns(ctx context.Context, q querier, schema, table string) ([]column, error) {
	rows, err := q.Query(ctx, `SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
FROM information_schema.columns
WHERE table_schema = $1 AND table_name = $2
ORDER BY ordinal_position`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", schema, table, err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var name, typ string
		var length, precision, scale *int32
		if err := rows.Scan(&name, &typ, &length, &precision, &scale); err != nil {
			return nil, fmt.Errorf("read columns of %s.%s: %w", schema, table, err)
		}
		cols = append(cols, column{name: name, typ: parseColType(typ, length, precision, scale)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", schema, table, err)
	}
	return cols, nil
}

// findColumn finds a column by name, case-insensitively as Salesforce
// names compare.
func findColumn(cols []column, name string) *column {
	for i := range cols {
		if cols[i].name == name {
			return &cols[i]
		}
	}
	for i := range cols {
		if strings.EqualFold(cols[i].name, name) {
			return &cols[i]
		}
	}
	return nil
}

// spelled returns t with each field named as its column is (names are
// matched case-insensitively; PostgreSQL's quoted names are not).
func spelled(t sfsync.Table, cols []column) sfsync.Table {
	out := t
	out.Fields = append([]sfsync.Field(nil), t.Fields...)
	for i, f := range out.Fields {
		if c := findColumn(cols, f.Name); c != nil && c.name != f.Name {
			if strings.EqualFold(t.CursorField, f.Name) {
				out.CursorField = c.name
			}
			if strings.EqualFold(t.DeletedField, f.Name) {
				out.DeletedField = c.name
			}
			out.Fields[i].Name = c.name
		}
	}
	return out
}

// EnsureTable creates t's final and staging tables, or evolves them:
// columns are added for new fields, a decimal column is widened when the
// field's precision or scale grew, and nothing is dropped or narrowed. A
// field whose type changed incompatibly keeps its column and type (a
// warning is logged); staging follows the final table's types, and staged
// values are converted to them.
func (w *Warehouse) EnsureTable(ctx context.Context, t sfsync.Table) error {
	if err := w.ensureTable(ctx, t); err != nil {
		return w.opError("ensure tables of "+t.Object, err)
	}
	return nil
}

// ddlLockKey is the transaction advisory lock that serialises sfsync's
// schema changes in one database, across processes: concurrent CREATE
// TABLE IF NOT EXISTS of one table can otherwise fail.
func (w *Warehouse) ddlLockKey() int64 {
	return lockKey("ddl", w.layout.Control)
}

// lockDDL takes the DDL lock for the rest of tx (PostgreSQL; Redshift
// serialises transactions itself).
func (w *Warehouse) lockDDL(ctx context.Context, tx pgx.Tx) error {
	if w.flavor.Lock != LockAdvisory {
		return nil
	}
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", w.ddlLockKey())
	return err
}

func lockKey(what, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("sfsync\x00" + what + "\x00" + schema))
	return int64(h.Sum64())
}

func (w *Warehouse) ensureTable(ctx context.Context, t sfsync.Table) error {
	want, err := w.dialect.FinalColumns(t)
	if err != nil {
		return err
	}
	return w.inTx(ctx, func(tx pgx.Tx) error {
		if err := w.lockDDL(ctx, tx); err != nil {
			return err
		}
		for _, s := range []string{w.layout.Final, w.layout.Staging} {
			var exists bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", s).Scan(&exists); err != nil {
				return err
			}
			if exists {
				continue
			}
			q, err := w.dialect.CreateSchema(s)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, q); err != nil {
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
		_, err = w.evolve(ctx, tx, w.layout.Staging, t.Object, staged)
		return err
	})
}

// evolve creates schema.table with the wanted columns, or adds the missing
// ones and reconciles types, and returns the resulting columns.
func (w *Warehouse) evolve(ctx context.Context, tx pgx.Tx, schema, table string, want []sqlgen.Column) ([]column, error) {
	have, err := w.columns(ctx, tx, schema, table)
	if err != nil {
		return nil, err
	}
	staging := schema == w.layout.Staging
	if len(have) == 0 {
		create := w.dialect.CreateTable
		if staging {
			create = w.dialect.CreateStagingTable
		}
		q, err := create(schema, table, want)
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("create table %s.%s: %w", schema, table, err)
		}
		w.log.Info("created table", "schema", schema, "table", table, "columns", len(want))
		return w.columns(ctx, tx, schema, table)
	}
	for _, c := range want {
		cur := findColumn(have, c.Name)
		if cur == nil {
			add := c
			add.PrimaryKey = false
			if add.Default == "" {
				add.NotNull = false
			}
			q, err := w.dialect.AddColumn(schema, table, add)
			if err != nil {
				return nil, err
			}
			if _, err := tx.Exec(ctx, q); err != nil {
				return nil, fmt.Errorf("add column %s to %s.%s: %w", c.Name, schema, table, err)
			}
			w.log.Info("added column", "schema", schema, "table", table, "column", c.Name, "type", c.Type)
			continue
		}
		wt := wantType(c.Type)
		if sqlstore.SameType(cur.typ, wt) {
			continue
		}
		newType, warning := sqlstore.Retype(w.dialect, staging, cur.typ, wt)
		if warning != "" {
			w.log.Warn(warning, "table", table, "column", cur.name, "column_type", cur.typ.SQL, "field_type", c.Type)
		}
		if newType == "" {
			continue
		}
		stmts, err := w.retype(schema, table, cur.name, newType)
		if err != nil {
			return nil, err
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return nil, fmt.Errorf("change column %s of %s.%s from %s to %s: %w", cur.name, schema, table, cur.typ.SQL, newType, err)
			}
		}
		w.log.Info("changed column type", "schema", schema, "table", table, "column", cur.name, "from", cur.typ.SQL, "to", newType)
	}
	return w.columns(ctx, tx, schema, table)
}

// retype renders a column type change: in place where the dialect can,
// else by replacing the column.
func (w *Warehouse) retype(schema, table, column, typ string) ([]string, error) {
	if w.dialect.AlterColumnType != "" {
		q, err := w.dialect.AlterColumnTypeSQL(schema, table, column, typ)
		if err != nil {
			return nil, err
		}
		return []string{q}, nil
	}
	return w.dialect.ReplaceColumnSQL(schema, table, column, typ)
}
