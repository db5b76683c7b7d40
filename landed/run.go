package landed

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

// Options configure Consolidate.
type Options struct {
	// Dialect is the database's: sqlgen.PostgreSQL or sqlgen.DuckDB (or
	// sqlgen.Redshift).
	Dialect sqlgen.Dialect
	// StagingSchema holds the landed tables; FinalSchema receives the
	// consolidated ones.
	StagingSchema, FinalSchema string
	// Objects names the tables to consolidate (compared
	// case-insensitively); empty for every table of the staging schema.
	Objects []string
	// Mode is sfsync.DeleteSoft (the default) or sfsync.DeleteHard.
	Mode sfsync.DeleteMode
	// Lookback limits the versions considered (see Spec.Lookback); zero
	// considers them all.
	Lookback time.Duration
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// Result is what consolidating one table did.
type Result struct {
	Table               string
	ID, Cursor, Deleted string   // the columns used ("" Deleted: none)
	Created             bool     // the final table was created
	AddedColumns        []string // columns added to the final table
	Versions            int64    // latest versions newer than their final rows
	Written             int64    // final rows inserted or replaced
	Removed             int64    // final rows removed (hard delete mode)
}

// Cursor columns, in order of preference, as Salesforce and landing tools
// spell them.
var (
	idNames      = []string{"Id"}
	cursorNames  = []string{"SystemModstamp", "system_modstamp", "LastModifiedDate", "last_modified_date"}
	deletedNames = []string{"IsDeleted", "is_deleted"}
)

// Consolidate dedupes each landed table into its final table, one
// transaction per table: it creates the final table when missing, adds
// columns the staging table gained, and runs Spec.Statements with the
// staging table's columns. Tables are done in name order; the first error
// stops the work, with the results so far.
func Consolidate(ctx context.Context, db *sql.DB, opts Options) ([]Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.StagingSchema == "" || opts.FinalSchema == "" {
		return nil, errors.New("consolidate landed tables: name both the staging and the final schema")
	}
	tables, err := pickTables(ctx, db, opts)
	if err != nil {
		return nil, err
	}
	if err := ensureSchema(ctx, db, opts.Dialect, opts.FinalSchema); err != nil {
		return nil, err
	}
	var out []Result
	for _, t := range tables {
		start := time.Now()
		res, err := consolidateTable(ctx, db, opts, t)
		if err != nil {
			return out, fmt.Errorf("consolidate %s.%s into %s: %w", opts.StagingSchema, t, opts.FinalSchema, err)
		}
		log.Info("consolidated landed table", "table", t, "versions", res.Versions, "written", res.Written,
			"removed", res.Removed, "created", res.Created, "took", time.Since(start))
		out = append(out, res)
	}
	return out, nil
}

// ensureSchema creates the schema when it is missing. (CREATE SCHEMA IF
// NOT EXISTS would need the right to create schemas even when it exists.)
func ensureSchema(ctx context.Context, db *sql.DB, d sqlgen.Dialect, schema string) error {
	q, err := d.CreateSchema(schema)
	if err != nil {
		return fmt.Errorf("final schema: %w", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = $1", schema).Scan(&n); err != nil {
		return fmt.Errorf("look for schema %s: %w", schema, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// pickTables lists the staging schema's tables that opts names.
func pickTables(ctx context.Context, db *sql.DB, opts Options) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`, opts.StagingSchema)
	if err != nil {
		return nil, fmt.Errorf("list the tables of %s: %w", opts.StagingSchema, err)
	}
	defer rows.Close()
	var all []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list the tables of %s: %w", opts.StagingSchema, err)
		}
		all = append(all, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list the tables of %s: %w", opts.StagingSchema, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("schema %s holds no tables (is it the schema the landing writes to?)", opts.StagingSchema)
	}
	if len(opts.Objects) == 0 {
		return all, nil
	}
	var picked, unknown []string
	for _, o := range opts.Objects {
		found := ""
		for _, n := range all {
			if n == o {
				found = n
				break
			}
			if found == "" && strings.EqualFold(n, o) {
				found = n
			}
		}
		if found == "" {
			unknown = append(unknown, o)
			continue
		}
		picked = append(picked, found)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("schema %s has no table %s (it has %s)", opts.StagingSchema, strings.Join(unknown, ", "), strings.Join(all, ", "))
	}
	sort.Strings(picked)
	return picked, nil
}

type landedColumn struct {
	name, typ string
}

// tableColumns lists a table's columns with their types as CREATE TABLE
// spells them; none when the table does not exist.
func tableColumns(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, d sqlgen.Dialect, schema, table string) ([]landedColumn, error) {
	udt := "udt_name"
	if d.Name == "duckdb" {
		udt = "NULL" // DuckDB's data_type is complete
	}
	rows, err := q.QueryContext(ctx, `SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, `+udt+`
FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s.%s: %w", schema, table, err)
	}
	defer rows.Close()
	var out []landedColumn
	for rows.Next() {
		var name, typ string
		var length, precision, scale sql.NullInt64
		var udt sql.NullString
		if err := rows.Scan(&name, &typ, &length, &precision, &scale, &udt); err != nil {
			return nil, fmt.Errorf("read the columns of %s.%s: %w", schema, table, err)
		}
		if d.Name != "duckdb" {
			switch strings.ToLower(typ) {
			case "character varying", "character":
				if length.Valid {
					typ = fmt.Sprintf("%s(%d)", typ, length.Int64)
				}
			case "numeric":
				if precision.Valid && scale.Valid {
					typ = fmt.Sprintf("numeric(%d,%d)", precision.Int64, scale.Int64)
				}
			case "array", "user-defined":
				if udt.Valid {
					typ = d.Quote(udt.String)
				}
			}
		}
		out = append(out, landedColumn{name: name, typ: typ})
	}
	return out, rows.Err()
}

// pick finds the first of names among the columns: exactly, else in
// another case.
func pick(cols []landedColumn, names []string) string {
	for _, n := range names {
		for _, c := range cols {
			if c.name == n {
				return c.name
			}
		}
	}
	for _, n := range names {
		for _, c := range cols {
			if strings.EqualFold(c.name, n) {
				return c.name
			}
		}
	}
	return ""
}

func consolidateTable(ctx context.Context, db *sql.DB, opts Options, table string) (Result, error) {
	res := Result{Table: table}
	d := opts.Dialect
	staged, err := tableColumns(ctx, db, d, opts.StagingSchema, table)
	if err != nil {
		return res, err
	}
	res.ID, res.Cursor, res.Deleted = pick(staged, idNames), pick(staged, cursorNames), pick(staged, deletedNames)
	if res.ID == "" {
		return res, errors.New("the table has no Id column")
	}
	if res.Cursor == "" {
		return res, fmt.Errorf("the table has no cursor column (one of %s)", strings.Join(cursorNames, ", "))
	}
	spec := Spec{
		Dialect: d, StagingSchema: opts.StagingSchema, FinalSchema: opts.FinalSchema, Table: table,
		ID: res.ID, Cursor: res.Cursor, Deleted: res.Deleted, Mode: opts.Mode, Lookback: opts.Lookback,
	}
	for _, c := range staged {
		spec.Columns = append(spec.Columns, c.name)
	}
	create, err := spec.Create()
	if err != nil {
		return res, err
	}
	stmts, counts, err := spec.Statements()
	if err != nil {
		return res, err
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "BEGIN"); err != nil {
		return res, fmt.Errorf("begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if _, err := conn.ExecContext(rctx, "ROLLBACK"); err != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}
	}()

	final, err := tableColumns(ctx, conn, d, opts.FinalSchema, table)
	if err != nil {
		return res, err
	}
	if len(final) == 0 {
		if _, err := conn.ExecContext(ctx, create); err != nil {
			return res, fmt.Errorf("create the final table: %w", err)
		}
		res.Created = true
	}
	for _, c := range staged {
		if res.Created || pick(final, []string{c.name}) == c.name {
			continue
		}
		q := fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", d.Qualified(opts.FinalSchema, table), d.Quote(c.name), c.typ)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return res, fmt.Errorf("add column %s to the final table: %w", c.name, err)
		}
		res.AddedColumns = append(res.AddedColumns, c.name)
	}
	for i, q := range stmts {
		if i == spec.CountsAt() {
			var all, deleted, removable int64
			if err := conn.QueryRowContext(ctx, counts).Scan(&all, &deleted, &removable); err != nil {
				return res, fmt.Errorf("count the versions: %w", err)
			}
			res.Versions, res.Written = all, all
			if spec.Mode == sfsync.DeleteHard {
				res.Written, res.Removed = all-deleted, removable
			}
		}
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return res, fmt.Errorf("%s: %w", firstWords(q), err)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	done = true
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return res, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// firstWords names a statement in an error by its first words.
func firstWords(q string) string {
	f := strings.Fields(q)
	return strings.Join(f[:min(3, len(f))], " ")
}
