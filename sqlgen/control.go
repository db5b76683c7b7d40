package sqlgen

import (
	"fmt"
	"strings"

	"github.com/sfsync/sfsync"
)

func (d Dialect) control(l Layout, table string) string {
	return d.Qualified(l.Control, table)
}

// RegisterObject inserts the object's row into the objects table when it
// is missing, with no cursor yet.
func (d Dialect) RegisterObject(l Layout) Statement {
	p := &params{d: d}
	// Parameters are cast so that every engine knows their types in a
	// SELECT list.
	sql := fmt.Sprintf("INSERT INTO %s (%s, %s, %s, %s)\nSELECT CAST(%s AS %s), CAST(%s AS %s), CAST(%s AS %s), CAST(%s AS %s)\nWHERE NOT EXISTS (SELECT 1 FROM %s WHERE %s = %s)",
		d.control(l, TableObjects), d.Quote("object"), d.Quote("cursor_field"), d.Quote("created_at"), d.Quote("updated_at"),
		p.of(ArgObject), d.Types.String, p.of(ArgCursorField), d.Types.String, p.of(ArgNow), d.Types.DateTime, p.of(ArgNow), d.Types.DateTime,
		d.control(l, TableObjects), d.Quote("object"), p.of(ArgObject))
	return Statement{SQL: sql, Args: p.args}
}

// StoreCursor updates the object's cursor; the time never moves back (a
// NULL or earlier ArgCursorTime keeps the stored time).
func (d Dialect) StoreCursor(l Layout) Statement {
	p := &params{d: d}
	ct := d.Quote("cursor_time")
	sql := fmt.Sprintf("UPDATE %s SET %s = %s, %s = CASE WHEN %s IS NULL OR %s < %s THEN %s ELSE %s END, %s = %s WHERE %s = %s",
		d.control(l, TableObjects),
		d.Quote("cursor_field"), p.of(ArgCursorField),
		ct, ct, ct, p.of(ArgCursorTime), p.of(ArgCursorTime), ct,
		d.Quote("updated_at"), p.of(ArgNow),
		d.Quote("object"), p.of(ArgObject))
	return Statement{SQL: sql, Args: p.args}
}

// SelectObject reads an object's cursor: cursor_field, cursor_time.
func (d Dialect) SelectObject(l Layout) Statement {
	p := &params{d: d}
	sql := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s = %s",
		d.Quote("cursor_field"), d.Quote("cursor_time"), d.control(l, TableObjects), d.Quote("object"), p.of(ArgObject))
	return Statement{SQL: sql, Args: p.args}
}

// ListObjects lists every object the control tables know, by name.
func (d Dialect) ListObjects(l Layout) Statement {
	o := d.Quote("object")
	return Statement{SQL: fmt.Sprintf("SELECT %s FROM %s UNION SELECT %s FROM %s ORDER BY 1",
		o, d.control(l, TableObjects), o, d.control(l, TableRuns))}
}

// InsertBatch records a closed batch.
func (d Dialect) InsertBatch(l Layout) Statement {
	p := &params{d: d}
	sql := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s, %s, %s, %s, %s, %s)",
		d.control(l, TableBatches),
		d.quoteList("batch_id", "run_id", "object", "extracted_at", "staged_rows", "closed_at"),
		p.of(ArgBatchID), p.of(ArgRunID), p.of(ArgObject), p.of(ArgExtractedAt), p.of(ArgStagedRows), p.of(ArgNow))
	return Statement{SQL: sql, Args: p.args}
}

// SelectBatch reads a batch's record: object, staged_rows,
// consolidated_at.
func (d Dialect) SelectBatch(l Layout) Statement {
	p := &params{d: d}
	sql := fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s",
		d.quoteList("object", "staged_rows", "consolidated_at"), d.control(l, TableBatches), d.Quote("batch_id"), p.of(ArgBatchID))
	return Statement{SQL: sql, Args: p.args}
}

// MarkBatch marks a batch consolidated, with what it changed.
func (d Dialect) MarkBatch(l Layout) Statement {
	p := &params{d: d}
	sql := fmt.Sprintf("UPDATE %s SET %s = %s, %s = %s, %s = %s, %s = %s, %s = %s WHERE %s = %s",
		d.control(l, TableBatches),
		d.Quote("consolidated_at"), p.of(ArgNow),
		d.Quote("delete_mode"), p.of(ArgDeleteMode),
		d.Quote("full_refresh"), p.of(ArgFullRefresh),
		d.Quote("upserted"), p.of(ArgUpserted),
		d.Quote("deleted"), p.of(ArgDeleted),
		d.Quote("batch_id"), p.of(ArgBatchID))
	return Statement{SQL: sql, Args: p.args}
}

// CleanStaging renders the cleanup of an object's staging table: staged
// rows are kept only while their batch is consolidated and was extracted
// at or after ArgCutoff; records of batches never consolidated go too.
// Run both statements in one transaction.
func (d Dialect) CleanStaging(l Layout, object string) ([]Statement, error) {
	if err := d.CheckLayout(l); err != nil {
		return nil, err
	}
	if err := d.CheckIdentifier(object); err != nil {
		return nil, fmt.Errorf("object name: %w", err)
	}
	p := &params{d: d}
	rows := fmt.Sprintf("DELETE FROM %s AS s WHERE NOT EXISTS (SELECT 1 FROM %s AS b WHERE b.%s = s.%s AND b.%s IS NOT NULL AND b.%s >= %s)",
		d.Qualified(l.Staging, object), d.control(l, TableBatches),
		d.Quote("batch_id"), d.Quote(sfsync.ColBatchID), d.Quote("consolidated_at"), d.Quote("extracted_at"), p.of(ArgCutoff))
	q := &params{d: d}
	batches := fmt.Sprintf("DELETE FROM %s WHERE %s = %s AND %s IS NULL",
		d.control(l, TableBatches), d.Quote("object"), q.of(ArgObject), d.Quote("consolidated_at"))
	return []Statement{{SQL: rows, Args: p.args}, {SQL: batches, Args: q.args}}, nil
}

// UpdateRun updates a run's row by run id; run InsertRun when it affects
// no row.
func (d Dialect) UpdateRun(l Layout) Statement {
	p := &params{d: d}
	var set []string
	for _, c := range runColumns() {
		if c.name == "run_id" {
			continue
		}
		set = append(set, d.Quote(c.name)+" = "+p.of(c.arg))
	}
	sql := fmt.Sprintf("UPDATE %s SET %s WHERE %s = %s",
		d.control(l, TableRuns), strings.Join(set, ", "), d.Quote("run_id"), p.of(ArgRunID))
	return Statement{SQL: sql, Args: p.args}
}

// InsertRun inserts a run's row.
func (d Dialect) InsertRun(l Layout) Statement {
	p := &params{d: d}
	var names, vals []string
	for _, c := range runColumns() {
		names = append(names, d.Quote(c.name))
		vals = append(vals, p.of(c.arg))
	}
	sql := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)",
		d.control(l, TableRuns), strings.Join(names, ", "), strings.Join(vals, ", "))
	return Statement{SQL: sql, Args: p.args}
}

// RunColumns lists the columns SelectLastRun returns, in order; they are
// the Args of InsertRun, in the same order.
func RunColumns() []string {
	var out []string
	for _, c := range runColumns() {
		out = append(out, c.name)
	}
	return out
}

// SelectLastRun reads the object's latest run (by start time), with the
// columns of RunColumns.
func (d Dialect) SelectLastRun(l Layout) Statement {
	p := &params{d: d}
	sql := fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s ORDER BY %s DESC NULLS LAST, %s DESC LIMIT 1",
		d.quoteList(RunColumns()...), d.control(l, TableRuns), d.Quote("object"), p.of(ArgObject),
		d.Quote("started_at"), d.Quote("updated_at"))
	return Statement{SQL: sql, Args: p.args}
}

// SelectLastSuccess reads when the object's latest complete run finished
// (NULL when none did).
func (d Dialect) SelectLastSuccess(l Layout) Statement {
	p := &params{d: d}
	sql := fmt.Sprintf("SELECT MAX(%s) FROM %s WHERE %s = %s AND %s = %s",
		d.Quote("finished_at"), d.control(l, TableRuns), d.Quote("object"), p.of(ArgObject),
		d.Quote("status"), literal(string(sfsync.RunComplete)))
	return Statement{SQL: sql, Args: p.args}
}

// CountLive counts an object's final rows not flagged deleted.
func (d Dialect) CountLive(l Layout, object string) (Statement, error) {
	if err := d.CheckIdentifier(object); err != nil {
		return Statement{}, fmt.Errorf("object name: %w", err)
	}
	return Statement{SQL: fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE NOT %s",
		d.Qualified(l.Final, object), d.Quote(sfsync.ColDeleted))}, nil
}

// CountDuplicateIDs counts the Ids that appear more than once in an
// object's final table (0 when consolidation works).
func (d Dialect) CountDuplicateIDs(l Layout, object, idColumn string) (Statement, error) {
	for _, n := range []string{object, idColumn} {
		if err := d.CheckIdentifier(n); err != nil {
			return Statement{}, fmt.Errorf("count duplicate ids: %w", err)
		}
	}
	id := d.Quote(idColumn)
	return Statement{SQL: fmt.Sprintf("SELECT COUNT(*) FROM (SELECT %s FROM %s GROUP BY %s HAVING COUNT(*) > 1) AS dup",
		id, d.Qualified(l.Final, object), id)}, nil
}

func (d Dialect) quoteList(names ...string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = d.Quote(n)
	}
	return strings.Join(q, ", ")
}
