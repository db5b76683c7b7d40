package sqlgen

import (
	"fmt"
	"strings"

	"github.com/sfsync/sfsync"
)

// Layout names the schemas sfsync writes to.
type Layout struct {
	Final   string // final tables, one per object ("salesforce")
	Staging string // staging tables, one per object ("salesforce_staging")
	Control string // control tables ("_sfsync")
}

// DefaultLayout is the layout used when configuration names no schemas.
func DefaultLayout() Layout {
	return Layout{Final: "salesforce", Staging: "salesforce_staging", Control: "_sfsync"}
}

// CheckLayout reports a missing or unusable schema name.
func (d Dialect) CheckLayout(l Layout) error {
	for _, s := range []struct{ what, name string }{{"final", l.Final}, {"staging", l.Staging}, {"control", l.Control}} {
		if err := d.CheckIdentifier(s.name); err != nil {
			return fmt.Errorf("%s schema: %w", s.what, err)
		}
	}
	return nil
}

// Column is one column of a table.
type Column struct {
	Name       string
	Type       string
	NotNull    bool
	Default    string // SQL expression, "" for none
	PrimaryKey bool   // the table's primary key (one column at most)
}

// Helper columns of the consolidation work table, besides the final
// table's columns. Salesforce names never start with an underscore, so
// these cannot collide with a field.
const (
	colPrevExists  = "_sfsync_prev_exists"
	colPrevDeleted = "_sfsync_prev_deleted"
	colRowNumber   = "_sfsync_rn"
	workTable      = "_sfsync_work"
)

// CheckTable reports what makes t unusable as a table: a bad object or
// field name, a duplicate field (names compare case-insensitively, as in
// Salesforce), a missing Id field, a cursor or deleted field that is not
// among the fields, a field the dialect cannot store, or a field named like
// sfsync's own columns.
func (d Dialect) CheckTable(t sfsync.Table) error {
	if err := d.CheckIdentifier(t.Object); err != nil {
		return fmt.Errorf("object name: %w", err)
	}
	seen := make(map[string]bool, len(t.Fields))
	for _, f := range t.Fields {
		if err := d.CheckIdentifier(f.Name); err != nil {
			return fmt.Errorf("object %s: field name: %w", t.Object, err)
		}
		key := strings.ToLower(f.Name)
		if seen[key] {
			return fmt.Errorf("object %s: field %s appears twice", t.Object, f.Name)
		}
		seen[key] = true
		if strings.HasPrefix(key, "_sfsync_") {
			return fmt.Errorf("object %s: field %s: names starting with _sfsync_ are reserved for sfsync's columns", t.Object, f.Name)
		}
		if _, err := d.ColumnType(f); err != nil {
			return fmt.Errorf("object %s: %w", t.Object, err)
		}
	}
	if !seen["id"] {
		return fmt.Errorf("object %s: no Id field", t.Object)
	}
	if t.CursorField != "" && fieldNamed(t, t.CursorField) == nil {
		return fmt.Errorf("object %s: cursor field %s is not among the fields", t.Object, t.CursorField)
	}
	if t.DeletedField != "" {
		f := fieldNamed(t, t.DeletedField)
		if f == nil {
			return fmt.Errorf("object %s: deleted field %s is not among the fields", t.Object, t.DeletedField)
		}
		if f.Kind() != sfsync.KindBool {
			return fmt.Errorf("object %s: deleted field %s is %s, not boolean", t.Object, f.Name, f.Type)
		}
	}
	return nil
}

func fieldNamed(t sfsync.Table, name string) *sfsync.Field {
	for i := range t.Fields {
		if strings.EqualFold(t.Fields[i].Name, name) {
			return &t.Fields[i]
		}
	}
	return nil
}

// IDField returns the exact name of t's Id field ("Id").
func IDField(t sfsync.Table) string {
	if f := fieldNamed(t, "Id"); f != nil {
		return f.Name
	}
	return "Id"
}

// FieldColumns returns one column per field of t, in field order.
func (d Dialect) FieldColumns(t sfsync.Table) ([]Column, error) {
	if err := d.CheckTable(t); err != nil {
		return nil, err
	}
	cols := make([]Column, 0, len(t.Fields)+3)
	for _, f := range t.Fields {
		typ, err := d.ColumnType(f)
		if err != nil {
			return nil, err
		}
		cols = append(cols, Column{Name: f.Name, Type: typ})
	}
	return cols, nil
}

// FinalColumns returns the columns of t's final table: its fields (Id the
// primary key when the dialect says so), then _sfsync_synced_at,
// _sfsync_deleted and _sfsync_deleted_at.
func (d Dialect) FinalColumns(t sfsync.Table) ([]Column, error) {
	cols, err := d.FieldColumns(t)
	if err != nil {
		return nil, err
	}
	if d.PrimaryKey {
		for i := range cols {
			if cols[i].Name == IDField(t) {
				cols[i].PrimaryKey = true
			}
		}
	}
	return append(cols,
		Column{Name: sfsync.ColSyncedAt, Type: d.Types.DateTime},
		Column{Name: sfsync.ColDeleted, Type: d.Types.Bool, NotNull: true, Default: "FALSE"},
		Column{Name: sfsync.ColDeletedAt, Type: d.Types.DateTime},
	), nil
}

// StagingColumns returns the columns of t's staging table: its fields,
// then _sfsync_batch_id, _sfsync_extracted_at and _sfsync_seq.
func (d Dialect) StagingColumns(t sfsync.Table) ([]Column, error) {
	cols, err := d.FieldColumns(t)
	if err != nil {
		return nil, err
	}
	return append(cols,
		Column{Name: sfsync.ColBatchID, Type: d.Types.String, NotNull: true},
		Column{Name: sfsync.ColExtractedAt, Type: d.Types.DateTime, NotNull: true},
		Column{Name: sfsync.ColSeq, Type: d.Types.Int, NotNull: true},
	), nil
}

// CreateSchema renders CREATE SCHEMA IF NOT EXISTS.
func (d Dialect) CreateSchema(schema string) (string, error) {
	if err := d.CheckIdentifier(schema); err != nil {
		return "", fmt.Errorf("schema name: %w", err)
	}
	return "CREATE SCHEMA IF NOT EXISTS " + d.Quote(schema), nil
}

// CreateTable renders CREATE TABLE IF NOT EXISTS with the given columns.
func (d Dialect) CreateTable(schema, table string, cols []Column) (string, error) {
	return d.createTable("CREATE TABLE IF NOT EXISTS", schema, table, cols)
}

// CreateStagingTable renders the CREATE TABLE of a staging table: UNLOGGED
// when the dialect says so. An unlogged table skips the write-ahead log,
// so staged rows, which live minutes, are neither logged nor shipped to
// replicas and archives; but a server crash empties it: engines check
// that a batch's rows are there before consolidating it.
func (d Dialect) CreateStagingTable(schema, table string, cols []Column) (string, error) {
	if d.UnloggedStaging {
		return d.createTable("CREATE UNLOGGED TABLE IF NOT EXISTS", schema, table, cols)
	}
	return d.CreateTable(schema, table, cols)
}

func (d Dialect) createTable(create, schema, table string, cols []Column) (string, error) {
	if err := d.CheckIdentifier(schema); err != nil {
		return "", fmt.Errorf("schema name: %w", err)
	}
	if err := d.CheckIdentifier(table); err != nil {
		return "", fmt.Errorf("table name: %w", err)
	}
	if len(cols) == 0 {
		return "", fmt.Errorf("table %s: no columns", table)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (", create, d.Qualified(schema, table))
	for i, c := range cols {
		def, err := d.columnDef(c)
		if err != nil {
			return "", fmt.Errorf("table %s: %w", table, err)
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  ")
		b.WriteString(def)
	}
	b.WriteString("\n)")
	return b.String(), nil
}

func (d Dialect) columnDef(c Column) (string, error) {
	if err := d.CheckIdentifier(c.Name); err != nil {
		return "", fmt.Errorf("column name: %w", err)
	}
	if c.Type == "" {
		return "", fmt.Errorf("column %s: no type", c.Name)
	}
	s := d.Quote(c.Name) + " " + c.Type
	switch {
	case c.PrimaryKey:
		s += " PRIMARY KEY"
	case c.NotNull:
		s += " NOT NULL"
	}
	if c.Default != "" {
		s += " DEFAULT " + c.Default
	}
	return s, nil
}

// AddColumn renders ALTER TABLE ... ADD COLUMN. A NOT NULL column needs a
// default, so existing rows have a value.
func (d Dialect) AddColumn(schema, table string, c Column) (string, error) {
	if err := d.CheckIdentifier(schema); err != nil {
		return "", fmt.Errorf("schema name: %w", err)
	}
	if err := d.CheckIdentifier(table); err != nil {
		return "", fmt.Errorf("table name: %w", err)
	}
	if c.NotNull && c.Default == "" {
		return "", fmt.Errorf("add column %s to %s: a NOT NULL column needs a default", c.Name, table)
	}
	def, err := d.columnDef(c)
	if err != nil {
		return "", fmt.Errorf("add column to %s: %w", table, err)
	}
	return fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s", d.Qualified(schema, table), def), nil
}

// AlterColumnTypeSQL renders a change of a column's type. It wraps
// ErrUnsupported when the dialect cannot change types.
func (d Dialect) AlterColumnTypeSQL(schema, table, column, typ string) (string, error) {
	if d.AlterColumnType == "" {
		return "", fmt.Errorf("change type of %s.%s: %w", table, column, ErrUnsupported)
	}
	for _, n := range []string{schema, table, column} {
		if err := d.CheckIdentifier(n); err != nil {
			return "", fmt.Errorf("change type of %s.%s: %w", table, column, err)
		}
	}
	return fmt.Sprintf(d.AlterColumnType, d.Qualified(schema, table), d.Quote(column), typ), nil
}

// ReplaceColumnSQL renders a change of a column's type for a dialect
// that cannot alter a column's type in place (Redshift, for anything but
// VARCHAR length): a column of the new type is added, filled from the old
// one, the old one dropped and the new one renamed to its name. The column
// moves to the end of the table. Run the statements in one transaction.
func (d Dialect) ReplaceColumnSQL(schema, table, column, typ string) ([]string, error) {
	for _, n := range []string{schema, table, column} {
		if err := d.CheckIdentifier(n); err != nil {
			return nil, fmt.Errorf("change type of %s.%s: %w", table, column, err)
		}
	}
	t, c, tmp := d.Qualified(schema, table), d.Quote(column), d.Quote("_sfsync_retype")
	return []string{
		fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", t, tmp, typ),
		fmt.Sprintf("UPDATE %s SET %s = CAST(%s AS %s)", t, tmp, c, typ),
		fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", t, c),
		fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", t, tmp, c),
	}, nil
}

// Control table names, in the control schema.
const (
	TableObjects = "objects" // one row per object: its cursor
	TableBatches = "batches" // one row per closed batch
	TableRuns    = "runs"    // one row per run of an object
)

// ControlTables renders the DDL of the control tables, in order.
//
// objects holds one row per object: the cursor (field and time; NULL time
// before the first consolidation) and when it was registered and last
// changed. batches holds one row per closed batch: who staged it, how many
// rows, and when and with what result it was consolidated (NULL while
// waiting). runs holds one row per sfsync.Run, zero times as NULL.
func (d Dialect) ControlTables(schema string) ([]string, error) {
	str, ts, i64, b := d.Types.String, d.Types.DateTime, d.Types.Int, d.Types.Bool
	tables := []struct {
		name string
		cols []Column
	}{
		{TableObjects, []Column{
			{Name: "object", Type: str + " PRIMARY KEY"},
			{Name: "cursor_field", Type: str},
			{Name: "cursor_time", Type: ts},
			{Name: "created_at", Type: ts, NotNull: true},
			{Name: "updated_at", Type: ts, NotNull: true},
		}},
		{TableBatches, []Column{
			{Name: "batch_id", Type: str + " PRIMARY KEY"},
			{Name: "run_id", Type: str, NotNull: true},
			{Name: "object", Type: str, NotNull: true},
			{Name: "extracted_at", Type: ts, NotNull: true},
			{Name: "staged_rows", Type: i64, NotNull: true},
			{Name: "closed_at", Type: ts, NotNull: true},
			{Name: "consolidated_at", Type: ts},
			{Name: "delete_mode", Type: str},
			{Name: "full_refresh", Type: b},
			{Name: "upserted", Type: i64},
			{Name: "deleted", Type: i64},
		}},
		{TableRuns, []Column{
			{Name: "run_id", Type: str + " PRIMARY KEY"},
			{Name: "object", Type: str, NotNull: true},
			{Name: "full_refresh", Type: b, NotNull: true},
			{Name: "started_at", Type: ts},
			{Name: "finished_at", Type: ts},
			{Name: "status", Type: str, NotNull: true},
			{Name: "reason", Type: str},
			{Name: "error", Type: str},
			{Name: "window_from", Type: ts},
			{Name: "window_to", Type: ts},
			{Name: "cursor_before", Type: ts},
			{Name: "cursor_after", Type: ts},
			{Name: "rows_extracted", Type: i64, NotNull: true},
			{Name: "rows_upserted", Type: i64, NotNull: true},
			{Name: "rows_deleted", Type: i64, NotNull: true},
			{Name: "api_calls", Type: i64, NotNull: true},
			{Name: "updated_at", Type: ts, NotNull: true},
			runsBulkJobs(d),
		}},
	}
	out := make([]string, 0, len(tables))
	for _, t := range tables {
		s, err := d.CreateTable(schema, t.name, t.cols)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// runColumns are the columns of the runs table with the Args that bind
// them.
func runColumns() []struct {
	name string
	arg  Arg
} {
	return []struct {
		name string
		arg  Arg
	}{
		{"run_id", ArgRunID}, {"object", ArgObject}, {"full_refresh", ArgRunFull},
		{"started_at", ArgRunStartedAt}, {"finished_at", ArgRunFinishedAt},
		{"status", ArgRunStatus}, {"reason", ArgRunReason}, {"error", ArgRunError},
		{"window_from", ArgRunWindowFrom}, {"window_to", ArgRunWindowTo},
		{"cursor_before", ArgRunCursorBefore}, {"cursor_after", ArgRunCursorAfter},
		{"rows_extracted", ArgRunRowsExtracted}, {"rows_upserted", ArgRunRowsUpserted},
		{"rows_deleted", ArgRunRowsDeleted}, {"api_calls", ArgRunAPICalls},
		{"updated_at", ArgNow}, {"bulk_jobs", ArgRunBulkJobs},
	}
}

// runsBulkJobs is the runs table's bulk_jobs column (Run.BulkJobs). It
// came after the table's first release, so it is nullable with a default
// (some engines cannot add a NOT NULL column to an existing table); runs
// saved before it read as 0.
func runsBulkJobs(d Dialect) Column {
	return Column{Name: "bulk_jobs", Type: d.Types.Int, Default: "0"}
}

// AddedControlColumn is a column a control table gained after its first
// release, for Setup to add to an existing table that lacks it.
type AddedControlColumn struct {
	Table  string // in the control schema
	Column string
	// SQL adds the column (ALTER TABLE ... ADD COLUMN).
	SQL string
}

// AddedControlColumns lists the columns control tables gained after their
// first release, oldest first. Setup adds each to an existing table that
// lacks it (looked up in information_schema.columns; ADD COLUMN IF NOT
// EXISTS is not in every engine's SQL), after ControlTables.
func (d Dialect) AddedControlColumns(schema string) ([]AddedControlColumn, error) {
	cols := []struct {
		table string
		col   Column
	}{{TableRuns, runsBulkJobs(d)}}
	out := make([]AddedControlColumn, 0, len(cols))
	for _, c := range cols {
		q, err := d.AddColumn(schema, c.table, c.col)
		if err != nil {
			return nil, err
		}
		out = append(out, AddedControlColumn{Table: c.table, Column: c.col.Name, SQL: q})
	}
	return out, nil
}
