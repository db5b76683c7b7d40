// Package sqlgen renders the SQL sfsync runs in a warehouse: DDL for final,
// staging and control tables, staging cleanup, and the consolidation of a
// staged batch into a final table (dedupe by Id, upsert, deletes, cursor).
//
// An engine is described by a Dialect, a plain value: identifier rules,
// column types per value kind, and the upsert strategy. The package only
// produces text; it never talks to a database. Statements carry their bind
// parameters as a list of Args, so an engine binds values by meaning and
// every engine runs the same plan.
package sqlgen

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sfsync/sfsync"
)

// Upsert is how a dialect merges the work table into a final table.
type Upsert string

// Upsert strategies.
const (
	// UpsertMerge runs one MERGE INTO ... WHEN MATCHED / WHEN NOT MATCHED.
	UpsertMerge Upsert = "merge"
	// UpsertOnConflict runs INSERT ... ON CONFLICT (Id) DO UPDATE; the final
	// table needs Id as its primary key (Dialect.PrimaryKey).
	UpsertOnConflict Upsert = "insert-on-conflict"
	// UpsertDeleteInsert deletes the final rows whose Id is in the work
	// table, then inserts the work table's rows, their fields read from
	// staging; columns of removed fields are carried over from the
	// deleted rows.
	UpsertDeleteInsert Upsert = "delete-insert"
)

// Types are the column types of a dialect, one per stored value kind.
type Types struct {
	String   string
	Bool     string
	Int      string
	Decimal  string // a format taking precision and scale: "DECIMAL(%d,%d)"
	Float    string
	Date     string
	Time     string
	DateTime string
}

// Dialect describes a warehouse engine's SQL as data.
type Dialect struct {
	// Name is the engine's name, for messages.
	Name string
	// MaxIdentifierLength is the longest identifier, in bytes, the engine
	// keeps intact; 0 when it has no limit. A longer name is an error,
	// never silently truncated (two fields would then share a column).
	MaxIdentifierLength int
	// Types maps value kinds to column types.
	Types Types
	// MaxDecimalPrecision is the widest DECIMAL the engine stores.
	MaxDecimalPrecision int
	// Upsert is the consolidation strategy.
	Upsert Upsert
	// PrimaryKey makes Id the primary key of final tables (which INSERT
	// ... ON CONFLICT needs).
	PrimaryKey bool
	// UnloggedStaging creates staging tables UNLOGGED: not written to the
	// write-ahead log, and emptied by a server crash (see
	// CreateStagingTable).
	UnloggedStaging bool
	// TempTable creates the per-transaction work table from a query: a
	// format taking the quoted name and the query.
	TempTable string
	// Placeholder renders bind parameter n (1-based). It must be numbered,
	// as plans use a parameter more than once.
	Placeholder string
	// AlterColumnType changes a column's type: a format taking the quoted
	// qualified table, the quoted column and the new type. "" when the
	// engine cannot change a column's type.
	AlterColumnType string
}

// DuckDB is the dialect of DuckDB 1.5.
//
// Column types by value kind (sfsync.Field.Kind):
//
//	string    VARCHAR
//	bool      BOOLEAN
//	int       BIGINT
//	decimal   DECIMAL(precision, scale)
//	float     DOUBLE
//	date      DATE
//	time      TIME
//	datetime  TIMESTAMPTZ
//
// Final tables carry no primary key: DuckDB 1.5 merges into a keyed table
// about 8x slower (30k against 241k rows/s), so Id stays unique by
// construction (every consolidation dedupes its batch and upserts by Id).
// Upserts are DELETE+INSERT, not MERGE: DuckDB records deletes by row and
// appends inserts into new row groups, while a MERGE updates rows in place
// and the checkpoint after it rewrites every row group holding an updated
// row, for scattered changes the whole table (figures in the duckdb
// warehouse package's Consolidate). DuckDB identifiers are
// case-insensitive even when quoted, like Salesforce API names, and have
// no length limit.
func DuckDB() Dialect {
	return Dialect{
		Name:                "duckdb",
		MaxIdentifierLength: 0,
		Types: Types{
			String:   "VARCHAR",
			Bool:     "BOOLEAN",
			Int:      "BIGINT",
			Decimal:  "DECIMAL(%d,%d)",
			Float:    "DOUBLE",
			Date:     "DATE",
			Time:     "TIME",
			DateTime: "TIMESTAMPTZ",
		},
		MaxDecimalPrecision: 38,
		Upsert:              UpsertDeleteInsert,
		TempTable:           "CREATE TEMP TABLE %s AS %s",
		Placeholder:         "$%d",
		AlterColumnType:     "ALTER TABLE %s ALTER COLUMN %s SET DATA TYPE %s",
	}
}

// PostgreSQL is the dialect of PostgreSQL 13 and later. Id is the primary
// key of final tables, which INSERT ... ON CONFLICT needs; staging tables
// are unlogged. Identifiers are cut at 63 bytes by the server, so longer
// names are rejected here. TEXT cannot hold a NUL character.
func PostgreSQL() Dialect {
	return Dialect{
		Name:                "postgres",
		MaxIdentifierLength: 63,
		Types: Types{
			String:   "TEXT",
			Bool:     "BOOLEAN",
			Int:      "BIGINT",
			Decimal:  "NUMERIC(%d,%d)",
			Float:    "DOUBLE PRECISION",
			Date:     "DATE",
			Time:     "TIME",
			DateTime: "TIMESTAMPTZ",
		},
		MaxDecimalPrecision: 1000,
		Upsert:              UpsertOnConflict,
		PrimaryKey:          true,
		UnloggedStaging:     true,
		TempTable:           "CREATE TEMP TABLE %s ON COMMIT DROP AS %s",
		Placeholder:         "$%d",
		AlterColumnType:     "ALTER TABLE %s ALTER COLUMN %s TYPE %s",
	}
}

// Redshift is the dialect of Amazon Redshift. Strings are VARCHAR(65535),
// the widest it has (longer values do not fit); identifiers are at most 127
// bytes and are folded to lower case unless the cluster enables
// enable_case_sensitive_identifier. A column's type cannot be changed
// (except VARCHAR length), so decimals are never widened in place.
func Redshift() Dialect {
	return Dialect{
		Name:                "redshift",
		MaxIdentifierLength: 127,
		Types: Types{
			String:   "VARCHAR(65535)",
			Bool:     "BOOLEAN",
			Int:      "BIGINT",
			Decimal:  "DECIMAL(%d,%d)",
			Float:    "DOUBLE PRECISION",
			Date:     "DATE",
			Time:     "TIME",
			DateTime: "TIMESTAMPTZ",
		},
		MaxDecimalPrecision: 38,
		Upsert:              UpsertDeleteInsert,
		TempTable:           "CREATE TEMP TABLE %s AS %s",
		Placeholder:         "$%d",
	}
}

// ErrUnsupported: the dialect cannot express the requested change.
var ErrUnsupported = errors.New("not supported by this SQL dialect")

// CheckIdentifier reports whether name can be used as an identifier: not
// empty, valid UTF-8 without NUL characters, and within the dialect's
// length limit.
func (d Dialect) CheckIdentifier(name string) error {
	switch {
	case name == "":
		return errors.New("empty identifier")
	case !utf8.ValidString(name):
		return fmt.Errorf("identifier %q is not valid UTF-8", name)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("identifier %q contains a NUL character", name)
	case d.MaxIdentifierLength > 0 && len(name) > d.MaxIdentifierLength:
		return fmt.Errorf("identifier %q is %d bytes long; %s keeps at most %d", name, len(name), d.Name, d.MaxIdentifierLength)
	}
	return nil
}

// Quote renders name as a quoted identifier: double quotes, inner double
// quotes doubled. Names keep their case. Check names with CheckIdentifier
// first; the rendering functions of this package do.
func (d Dialect) Quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Qualified renders schema.name, both quoted.
func (d Dialect) Qualified(schema, name string) string {
	return d.Quote(schema) + "." + d.Quote(name)
}

// Param renders bind parameter n (1-based).
func (d Dialect) Param(n int) string {
	return fmt.Sprintf(d.Placeholder, n)
}

// ColumnType is the column type values of f are stored in.
func (d Dialect) ColumnType(f sfsync.Field) (string, error) {
	k := f.Kind()
	if k == sfsync.KindDecimal && f.Precision > d.MaxDecimalPrecision {
		k = sfsync.KindFloat
	}
	t, ok := d.KindType(k, f.Precision, f.Scale)
	if !ok {
		return "", fmt.Errorf("field %s: %s values are not stored (type %s)", f.Name, f.Kind(), f.Type)
	}
	return t, nil
}

// KindType is the dialect's type for values of kind k (precision and
// scale for decimals); ok is false for a kind sfsync does not store.
func (d Dialect) KindType(k sfsync.Kind, precision, scale int) (t string, ok bool) {
	switch k {
	case sfsync.KindString:
		return d.Types.String, true
	case sfsync.KindBool:
		return d.Types.Bool, true
	case sfsync.KindInt:
		return d.Types.Int, true
	case sfsync.KindDecimal:
		return d.DecimalType(precision, scale), true
	case sfsync.KindFloat:
		return d.Types.Float, true
	case sfsync.KindDate:
		return d.Types.Date, true
	case sfsync.KindTime:
		return d.Types.Time, true
	case sfsync.KindDateTime:
		return d.Types.DateTime, true
	default:
		return "", false
	}
}

// DecimalType renders a decimal type of the given precision and scale.
func (d Dialect) DecimalType(precision, scale int) string {
	return fmt.Sprintf(d.Types.Decimal, precision, scale)
}
