// Package landed consolidates staging tables that another tool landed.
//
// Managed flows that land Salesforce data insert only: every change of a
// record is one more row in the object's staging table. This package
// dedupes such a table into a final table of the same shape, one row per
// Id: the version with the latest cursor value (SystemModstamp, else
// LastModifiedDate). When the table has IsDeleted, a latest version that is
// deleted removes the final row (hard delete mode) or stays as it is,
// IsDeleted true (soft, the default). Running it again changes nothing: a
// staged version only replaces a final row whose cursor value is older.
//
// The work is plain SQL, so it can run in a team's own scheduler: Script
// renders it for PostgreSQL and DuckDB, Procedure as a stored procedure for
// Redshift (and PostgreSQL). Consolidate runs it through database/sql,
// creating and evolving the final tables first.
package landed

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

// Spec says how to consolidate one landed table.
type Spec struct {
	// Dialect renders the SQL (sqlgen.PostgreSQL, Redshift or DuckDB).
	Dialect sqlgen.Dialect
	// StagingSchema holds the landed tables; FinalSchema the
	// consolidated ones. They must differ.
	StagingSchema, FinalSchema string
	// Table is the landed table's name, also the final table's.
	Table string
	// ID, Cursor and Deleted name the record Id, the cursor column and
	// the deleted flag ("" when the table has none).
	ID, Cursor, Deleted string
	// TieBreak lists columns that order versions with equal cursor values,
	// latest first (a landing timestamp, say). Without them such versions
	// are taken to be the same version landed twice, and any one wins.
	TieBreak []string
	// Mode is what a deleted latest version does: sfsync.DeleteSoft (the
	// default) keeps it, sfsync.DeleteHard removes the final row.
	Mode sfsync.DeleteMode
	// Columns are the columns to copy, in final table order; nil copies
	// every column by position (SELECT *), which needs the final table to
	// have the staging table's columns in the same order.
	Columns []string
	// Lookback, when not zero, considers only versions whose cursor value
	// is at most this much before the final table's latest one, instead
	// of the whole staging table. Versions landed later than that are
	// missed; zero is always safe.
	Lookback time.Duration
}

// The temporary table holding the latest versions, and its row number
// column.
const (
	latestTable = "_sfsync_latest"
	rowNumber   = "_sfsync_rn"
)

// Check reports what makes s unusable.
func (s Spec) Check() error {
	d := s.Dialect
	if s.StagingSchema == s.FinalSchema {
		return fmt.Errorf("the staging and final schemas must differ (both %q)", s.StagingSchema)
	}
	for _, n := range []struct{ what, name string }{
		{"staging schema", s.StagingSchema}, {"final schema", s.FinalSchema}, {"table", s.Table},
		{"id column", s.ID}, {"cursor column", s.Cursor},
	} {
		if err := d.CheckIdentifier(n.name); err != nil {
			return fmt.Errorf("%s: %w", n.what, err)
		}
	}
	cols := append(append([]string(nil), s.TieBreak...), s.Columns...)
	if s.Deleted != "" {
		cols = append(cols, s.Deleted)
	}
	for _, c := range cols {
		if err := d.CheckIdentifier(c); err != nil {
			return fmt.Errorf("table %s: column: %w", s.Table, err)
		}
	}
	if s.Mode != "" && s.Mode != sfsync.DeleteSoft && s.Mode != sfsync.DeleteHard {
		return fmt.Errorf("delete mode %q: want %q or %q", s.Mode, sfsync.DeleteSoft, sfsync.DeleteHard)
	}
	if s.Lookback < 0 {
		return fmt.Errorf("lookback %s: want 0 or more", s.Lookback)
	}
	if s.Columns != nil {
		for _, want := range []string{s.ID, s.Cursor, s.Deleted} {
			if want != "" && !contains(s.Columns, want) {
				return fmt.Errorf("table %s: column %s is not among the columns", s.Table, want)
			}
		}
	}
	switch d.Name {
	case "postgres", "redshift", "duckdb":
	default:
		return fmt.Errorf("dialect %q: want postgres, redshift or duckdb", d.Name)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Create renders the creation of the final table, with the staging
// table's columns, when it is missing.
func (s Spec) Create() (string, error) {
	if err := s.Check(); err != nil {
		return "", err
	}
	d := s.Dialect
	final, staging := d.Qualified(s.FinalSchema, s.Table), d.Qualified(s.StagingSchema, s.Table)
	if d.Name == "duckdb" {
		return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s AS SELECT * FROM %s LIMIT 0", final, staging), nil
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (LIKE %s)", final, staging), nil
}

// Statements renders the consolidation proper, to run in one transaction
// after Create: the latest version of each Id newer than its final row
// into a temporary table, then the final rows of those Ids deleted and the
// versions inserted (those not deleted, in hard mode), then the temporary
// table dropped. Counts, when not "", is a query of three counts over the
// temporary table to run after the first statements (see CountsAt): the
// versions to write, those deleted, and those deleted whose Id the final
// table holds.
func (s Spec) Statements() (stmts []string, counts string, err error) {
	if err := s.Check(); err != nil {
		return nil, "", err
	}
	d := s.Dialect
	q := d.Quote
	final, staging := d.Qualified(s.FinalSchema, s.Table), d.Qualified(s.StagingSchema, s.Table)
	id, cur, latest := q(s.ID), q(s.Cursor), q(latestTable)

	order := []string{cur + " DESC NULLS LAST"}
	for _, c := range s.TieBreak {
		order = append(order, q(c)+" DESC NULLS LAST")
	}
	where := ""
	if s.Lookback > 0 {
		where = fmt.Sprintf(" WHERE (%s >= (SELECT MAX(%s) FROM %s) - %s OR NOT EXISTS (SELECT 1 FROM %s))",
			cur, cur, final, interval(d, s.Lookback), final)
	}
	sel, list := "s.*", "*"
	if s.Columns != nil {
		var sc, qc []string
		for _, c := range s.Columns {
			sc = append(sc, "s."+q(c))
			qc = append(qc, q(c))
		}
		sel, list = strings.Join(sc, ", "), strings.Join(qc, ", ")
	}
	gone := ""
	if s.Mode == sfsync.DeleteHard && s.Deleted != "" {
		// A deletion of an Id the final table does not hold has nothing
		// to do.
		gone = fmt.Sprintf("\n  AND NOT (COALESCE(s.%s, FALSE) AND NOT EXISTS (SELECT 1 FROM %s AS f WHERE f.%s = s.%s))", q(s.Deleted), final, id, id)
	}
	stmts = append(stmts, fmt.Sprintf(
		"CREATE TEMP TABLE %s AS\nSELECT %s\nFROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY %s ORDER BY %s) AS %s FROM %s%s) AS s\nWHERE s.%s = 1\n  AND NOT EXISTS (SELECT 1 FROM %s AS f WHERE f.%s = s.%s AND f.%s >= s.%s)%s",
		latest, sel, id, strings.Join(order, ", "), q(rowNumber), staging, where,
		q(rowNumber), final, id, id, cur, cur, gone))
	if s.Columns == nil {
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", latest, q(rowNumber)))
	}
	deleted := "FALSE"
	if s.Deleted != "" {
		deleted = fmt.Sprintf("COALESCE(%s, FALSE)", q(s.Deleted))
	}
	counts = fmt.Sprintf("SELECT COUNT(*), COUNT(CASE WHEN %s THEN 1 END), COUNT(CASE WHEN %s AND %s IN (SELECT %s FROM %s) THEN 1 END) FROM %s",
		deleted, deleted, id, id, final, latest)
	stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s)", final, id, id, latest))
	insert := fmt.Sprintf("INSERT INTO %s\nSELECT * FROM %s", final, latest)
	if s.Columns != nil {
		insert = fmt.Sprintf("INSERT INTO %s (%s)\nSELECT %s FROM %s", final, list, list, latest)
	}
	if s.Mode == sfsync.DeleteHard && s.Deleted != "" {
		insert += " WHERE NOT " + deleted
	}
	stmts = append(stmts, insert, "DROP TABLE "+latest)
	return stmts, counts, nil
}

// CountsAt is the index in Statements before which the counts query runs:
// after the latest versions are gathered.
func (s Spec) CountsAt() int {
	if s.Columns == nil {
		return 2
	}
	return 1
}

// interval renders d as an interval literal.
func interval(d sqlgen.Dialect, v time.Duration) string {
	secs := int64(v / time.Second)
	if d.Name == "duckdb" {
		return fmt.Sprintf("INTERVAL %d SECOND", secs)
	}
	return fmt.Sprintf("INTERVAL '%d seconds'", secs)
}

// Script renders the consolidation of every spec as a SQL script, one
// transaction per table.
func Script(specs []Spec) (string, error) {
	if len(specs) == 0 {
		return "", errors.New("no tables to consolidate")
	}
	var b strings.Builder
	header(&b, specs)
	for _, s := range specs {
		create, err := s.Create()
		if err != nil {
			return "", err
		}
		stmts, _, err := s.Statements()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n-- %s\n", describe(s))
		b.WriteString("BEGIN;\n")
		for _, q := range append([]string{create}, stmts...) {
			b.WriteString(q)
			b.WriteString(";\n")
		}
		b.WriteString("COMMIT;\n")
	}
	return b.String(), nil
}

// Procedure renders the consolidation of every spec as a stored procedure
// (PL/pgSQL, which Redshift and PostgreSQL run) named name in the first
// spec's final schema, committing after each table, followed by the CALL
// that runs it.
func Procedure(name string, specs []Spec) (string, error) {
	if len(specs) == 0 {
		return "", errors.New("no tables to consolidate")
	}
	d := specs[0].Dialect
	if d.Name == "duckdb" {
		return "", errors.New("DuckDB has no stored procedures; print a script instead")
	}
	if err := d.CheckIdentifier(name); err != nil {
		return "", fmt.Errorf("procedure name: %w", err)
	}
	const tag = "$sfsync$"
	proc := d.Qualified(specs[0].FinalSchema, name)
	var b strings.Builder
	header(&b, specs)
	fmt.Fprintf(&b, "CREATE OR REPLACE PROCEDURE %s()\nAS %s\nBEGIN\n", proc, tag)
	for _, s := range specs {
		create, err := s.Create()
		if err != nil {
			return "", err
		}
		stmts, _, err := s.Statements()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "  -- %s\n", describe(s))
		for _, q := range append([]string{create}, stmts...) {
			if strings.Contains(q, tag) {
				return "", fmt.Errorf("table %s: a name contains %s", s.Table, tag)
			}
			b.WriteString("  ")
			b.WriteString(strings.ReplaceAll(q, "\n", "\n  "))
			b.WriteString(";\n")
		}
		b.WriteString("  COMMIT;\n")
	}
	fmt.Fprintf(&b, "END;\n%s LANGUAGE plpgsql;\n\nCALL %s();\n", tag, proc)
	return b.String(), nil
}

func header(b *strings.Builder, specs []Spec) {
	s := specs[0]
	fmt.Fprintf(b, "-- Consolidate the tables landed in %s into %s: one row per Id, the\n", s.StagingSchema, s.FinalSchema)
	b.WriteString("-- version with the latest cursor value. Safe to run again: it changes nothing\n")
	b.WriteString("-- until newer versions land. Final tables are created with the staging tables'\n")
	b.WriteString("-- columns; when the landing adds a column, add it to the final table too\n")
	b.WriteString("-- (or run `sfsync consolidate` once, which does). The final schema must exist.\n")
}

func describe(s Spec) string {
	del := "no deleted flag"
	if s.Deleted != "" {
		mode := s.Mode
		if mode == "" {
			mode = sfsync.DeleteSoft
		}
		del = fmt.Sprintf("deleted flag %s, %s deletes", s.Deleted, mode)
	}
	return fmt.Sprintf("%s: by %s, latest %s; %s", s.Table, s.ID, s.Cursor, del)
}
