package sqlgen

import (
	"fmt"
	"strings"

	"github.com/sfsync/sfsync"
)

// Result says what an engine reads from a plan step.
type Result int

// Step results.
const (
	// ResultNone: execute and ignore the outcome.
	ResultNone Result = iota
	// ResultCounts: a query returning one row of two BIGINTs, the rows the
	// plan upserts and the rows it deletes; bind them as ArgUpserted and
	// ArgDeleted for later steps.
	ResultCounts
	// ResultDeleted: the rows the statement affects are final rows deleted
	// (or flagged deleted); add them to ArgDeleted.
	ResultDeleted
)

// Step is one statement of a consolidation plan.
type Step struct {
	Name string // what the step does, for errors and logs
	Statement
	Result Result // what to read from it
}

// ConsolidateSpec says what to consolidate.
type ConsolidateSpec struct {
	Layout      Layout
	Table       sfsync.Table
	Mode        sfsync.DeleteMode // soft or hard
	FullRefresh bool              // the batch holds every record of the object
	// Retained lists columns of the final table that are no longer fields
	// (a field removed from the object or from the selection). They are
	// never written: upserted rows keep their values, new rows get NULL.
	Retained []string
	// DropStaged: the plan ends by deleting the batch's staged rows.
	DropStaged bool
}

// Consolidate renders the plan that merges one staged batch into a final
// table. An engine runs every step in order in one transaction, after
// checking that the batch is closed and not yet consolidated, and commits.
//
// The plan:
//
//  1. work: the batch deduplicated by Id into a temporary table: per Id
//     the row with the latest cursor value (NULL cursors last), then the
//     highest _sfsync_seq. A row whose final row has a strictly newer
//     cursor value is dropped (stale); an equal cursor re-read overwrites,
//     so refreshed formula values land. Without a cursor field the latest
//     staged row always wins. _sfsync_synced_at is ArgNow; a row whose
//     deleted field is true gets _sfsync_deleted = true and
//     _sfsync_deleted_at = its cursor value (ArgExtractedAt without one);
//     any other row gets false and NULL, which undeletes a flagged row.
//     For MERGE and ON CONFLICT the work table holds the final columns.
//     For DELETE+INSERT it holds only the Id, _sfsync_seq, sfsync's own
//     columns and the retained columns: the dedupe then sorts and joins
//     a few narrow columns, and the insert reads the fields from staging
//     by (_sfsync_batch_id, _sfsync_seq), which is unique, so wide rows
//     are read once and never copied into the work table.
//  2. counts: rows to upsert (not deleted) and rows to delete (soft: not
//     already flagged; hard: present in the final table).
//  3. hard mode only: delete final rows whose work row is deleted (part
//     of the upsert for DELETE+INSERT).
//  4. upsert the work table (hard mode: its rows that are not deleted).
//  5. full refresh only: final rows whose Id is not in the batch at all
//     (stale rows count as present) are flagged deleted as of
//     ArgExtractedAt (soft; flagged rows are left alone) or deleted (hard).
//  6. register the object, store the cursor (never moving it back: a
//     NULL or earlier ArgCursorTime keeps the stored one), mark the batch
//     consolidated with the counts, drop the work table. The work table
//     is created inside the transaction, so a failed plan leaves none.
//  7. DropStaged only: delete the batch's staged rows.
func (d Dialect) Consolidate(s ConsolidateSpec) ([]Step, error) {
	if err := d.CheckLayout(s.Layout); err != nil {
		return nil, err
	}
	t := s.Table
	if err := d.CheckTable(t); err != nil {
		return nil, err
	}
	if s.Mode != sfsync.DeleteSoft && s.Mode != sfsync.DeleteHard {
		return nil, fmt.Errorf("consolidate %s: delete mode %q: want %q or %q", t.Object, s.Mode, sfsync.DeleteSoft, sfsync.DeleteHard)
	}
	for _, r := range s.Retained {
		if err := d.CheckIdentifier(r); err != nil {
			return nil, fmt.Errorf("consolidate %s: retained column: %w", t.Object, err)
		}
		if fieldNamed(t, r) != nil {
			return nil, fmt.Errorf("consolidate %s: retained column %s is also a field", t.Object, r)
		}
	}
	final := d.Qualified(s.Layout.Final, t.Object)
	staging := d.Qualified(s.Layout.Staging, t.Object)
	work := d.Quote(workTable)
	id := d.Quote(IDField(t))
	hard := s.Mode == sfsync.DeleteHard

	var steps []Step
	add := func(name string, p *params, sql string, r Result) {
		var args []Arg
		if p != nil {
			args = p.args
		}
		steps = append(steps, Step{Name: name, Statement: Statement{SQL: sql, Args: args}, Result: r})
	}

	// The work table is created inside the transaction, so a failure
	// never leaves it behind; it is dropped before commit.
	p := &params{d: d}
	add("work", p, fmt.Sprintf(d.TempTable, work, d.workQuery(s, p, final, staging)), ResultNone)

	deletedCond := "NOT COALESCE(" + d.Quote(colPrevDeleted) + ", FALSE)"
	if hard {
		deletedCond = d.Quote(colPrevExists)
	}
	add("counts", nil, fmt.Sprintf(
		"SELECT COUNT(CASE WHEN NOT %[1]s THEN 1 END), COUNT(CASE WHEN %[1]s AND %[2]s THEN 1 END) FROM %[3]s",
		d.Quote(sfsync.ColDeleted), deletedCond, work), ResultCounts)

	if d.Upsert == UpsertDeleteInsert {
		// The delete covers every work row's Id, deleted ones included.
		add("upsert-delete", nil, fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s)", final, id, id, work), ResultNone)
		p := &params{d: d}
		add("upsert-insert", p, d.insertFromStaging(s, final, staging, work, p), ResultNone)
	} else {
		source := work
		if hard {
			add("hard-delete", nil, fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s)",
				final, id, id, work, d.Quote(sfsync.ColDeleted)), ResultNone)
			source = fmt.Sprintf("(SELECT * FROM %s WHERE NOT %s)", work, d.Quote(sfsync.ColDeleted))
		}
		upsert, err := d.upsert(s, final, source)
		if err != nil {
			return nil, err
		}
		steps = append(steps, upsert)
	}

	if s.FullRefresh {
		p := &params{d: d}
		notInBatch := fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s AS s WHERE s.%s = %s AND s.%s = f.%s)",
			staging, d.Quote(sfsync.ColBatchID), p.of(ArgBatchID), id, id)
		if hard {
			add("full-refresh", p, fmt.Sprintf("DELETE FROM %s AS f WHERE %s", final, notInBatch), ResultDeleted)
		} else {
			// SET targets are unqualified: PostgreSQL rejects a table
			// prefix there.
			add("full-refresh", p, fmt.Sprintf("UPDATE %s AS f SET %s = TRUE, %s = %s, %s = %s WHERE NOT f.%s AND %s",
				final,
				d.Quote(sfsync.ColDeleted),
				d.Quote(sfsync.ColDeletedAt), p.of(ArgExtractedAt),
				d.Quote(sfsync.ColSyncedAt), p.of(ArgNow),
				d.Quote(sfsync.ColDeleted), notInBatch), ResultDeleted)
		}
	}

	reg := d.RegisterObject(s.Layout)
	steps = append(steps, Step{Name: "register-object", Statement: reg})
	steps = append(steps, Step{Name: "store-cursor", Statement: d.StoreCursor(s.Layout)})
	steps = append(steps, Step{Name: "mark-batch", Statement: d.MarkBatch(s.Layout)})
	add("drop-work", nil, "DROP TABLE "+work, ResultNone)
	if s.DropStaged {
		p := &params{d: d}
		add("drop-staged", p, fmt.Sprintf("DELETE FROM %s WHERE %s = %s", staging, d.Quote(sfsync.ColBatchID), p.of(ArgBatchID)), ResultNone)
	}
	return steps, nil
}

// workQuery selects the batch, deduplicated by Id and without stale rows,
// as final table columns plus the helper columns.
func (d Dialect) workQuery(s ConsolidateSpec, p *params, final, staging string) string {
	t := s.Table
	id := d.Quote(IDField(t))
	batch, now, extracted := p.of(ArgBatchID), p.of(ArgNow), p.of(ArgExtractedAt)
	var order string
	stale := ""
	if t.CursorField != "" {
		cur := d.Quote(fieldNamed(t, t.CursorField).Name)
		order = cur + " DESC NULLS LAST, "
		stale = fmt.Sprintf(" AND NOT COALESCE(f.%s > s.%s, FALSE)", cur, cur)
	}
	order += d.Quote(sfsync.ColSeq) + " DESC"

	deleted := "FALSE"
	if t.DeletedField != "" {
		deleted = fmt.Sprintf("COALESCE(s.%s, FALSE)", d.Quote(fieldNamed(t, t.DeletedField).Name))
	}
	deletedAt := "CAST(" + extracted + " AS " + d.Types.DateTime + ")"
	if t.CursorField != "" {
		deletedAt = fmt.Sprintf("COALESCE(s.%s, %s)", d.Quote(fieldNamed(t, t.CursorField).Name), deletedAt)
	}

	// DELETE+INSERT reads the fields from staging when it inserts, so
	// the work table needs only the key to find them; the other
	// strategies read every column from the work table.
	narrow := d.Upsert == UpsertDeleteInsert
	var cols, inner []string
	if narrow {
		cols = append(cols, "s."+id, "s."+d.Quote(sfsync.ColSeq))
		inner = append(inner, id, d.Quote(sfsync.ColSeq))
		if t.CursorField != "" {
			inner = append(inner, d.Quote(fieldNamed(t, t.CursorField).Name))
		}
		if t.DeletedField != "" {
			inner = append(inner, d.Quote(fieldNamed(t, t.DeletedField).Name))
		}
	} else {
		for _, f := range t.Fields {
			cols = append(cols, "s."+d.Quote(f.Name))
		}
		inner = append(inner, "*")
	}
	cols = append(cols,
		fmt.Sprintf("CAST(%s AS %s) AS %s", now, d.Types.DateTime, d.Quote(sfsync.ColSyncedAt)),
		fmt.Sprintf("%s AS %s", deleted, d.Quote(sfsync.ColDeleted)),
		fmt.Sprintf("CASE WHEN %s THEN %s END AS %s", deleted, deletedAt, d.Quote(sfsync.ColDeletedAt)),
		fmt.Sprintf("f.%s IS NOT NULL AS %s", id, d.Quote(colPrevExists)),
		fmt.Sprintf("f.%s AS %s", d.Quote(sfsync.ColDeleted), d.Quote(colPrevDeleted)),
	)
	if d.Upsert == UpsertDeleteInsert {
		// DELETE+INSERT rewrites whole rows: carry retained columns over.
		for _, r := range s.Retained {
			cols = append(cols, "f."+d.Quote(r))
		}
	}
	return fmt.Sprintf("SELECT %s\nFROM (SELECT %s, ROW_NUMBER() OVER (PARTITION BY %s ORDER BY %s) AS %s FROM %s WHERE %s = %s) AS s\nLEFT JOIN %s AS f ON f.%s = s.%s\nWHERE s.%s = 1%s",
		strings.Join(cols, ",\n  "),
		strings.Join(inner, ", "), id, order, d.Quote(colRowNumber), staging, d.Quote(sfsync.ColBatchID), batch,
		final, id, id,
		d.Quote(colRowNumber), stale)
}

// insertFromStaging renders DELETE+INSERT's insert: the work table's rows
// (hard mode: those not deleted) with their fields read from staging by
// (_sfsync_batch_id, _sfsync_seq), and sfsync's own and the retained
// columns from the work table.
func (d Dialect) insertFromStaging(s ConsolidateSpec, final, staging, work string, p *params) string {
	var names, vals []string
	for _, f := range s.Table.Fields {
		names = append(names, d.Quote(f.Name))
		vals = append(vals, "s."+d.Quote(f.Name))
	}
	own := append([]string{sfsync.ColSyncedAt, sfsync.ColDeleted, sfsync.ColDeletedAt}, s.Retained...)
	for _, n := range own {
		names = append(names, d.Quote(n))
		vals = append(vals, "w."+d.Quote(n))
	}
	seq := d.Quote(sfsync.ColSeq)
	q := fmt.Sprintf("INSERT INTO %s (%s)\nSELECT %s\nFROM %s AS w JOIN %s AS s ON s.%s = %s AND s.%s = w.%s",
		final, strings.Join(names, ", "), strings.Join(vals, ", "),
		work, staging, d.Quote(sfsync.ColBatchID), p.of(ArgBatchID), seq, seq)
	if s.Mode == sfsync.DeleteHard {
		q += "\nWHERE NOT w." + d.Quote(sfsync.ColDeleted)
	}
	return q
}

// upsert renders the MERGE or ON CONFLICT upsert of source (the work
// table, or a query over it) into final.
func (d Dialect) upsert(s ConsolidateSpec, final, source string) (Step, error) {
	t := s.Table
	id := d.Quote(IDField(t))
	names := make([]string, 0, len(t.Fields)+3)
	for _, f := range t.Fields {
		names = append(names, f.Name)
	}
	names = append(names, sfsync.ColSyncedAt, sfsync.ColDeleted, sfsync.ColDeletedAt)
	quoted := make([]string, len(names))
	wq := make([]string, len(names))
	var sets []string
	for i, n := range names {
		quoted[i] = d.Quote(n)
		wq[i] = "w." + quoted[i]
		if !strings.EqualFold(n, IDField(t)) {
			sets = append(sets, quoted[i])
		}
	}
	switch d.Upsert {
	case UpsertMerge:
		set := make([]string, len(sets))
		for i, c := range sets {
			set[i] = c + " = w." + c
		}
		return Step{Name: "upsert", Statement: Statement{SQL: fmt.Sprintf(
			"MERGE INTO %s AS f USING %s AS w ON f.%s = w.%s\nWHEN MATCHED THEN UPDATE SET %s\nWHEN NOT MATCHED THEN INSERT (%s) VALUES (%s)",
			final, source, id, id,
			strings.Join(set, ", "),
			strings.Join(quoted, ", "), strings.Join(wq, ", "))}}, nil
	case UpsertOnConflict:
		set := make([]string, len(sets))
		for i, c := range sets {
			set[i] = c + " = EXCLUDED." + c
		}
		return Step{Name: "upsert", Statement: Statement{SQL: fmt.Sprintf(
			"INSERT INTO %s (%s)\nSELECT %s FROM %s AS w\nON CONFLICT (%s) DO UPDATE SET %s",
			final, strings.Join(quoted, ", "),
			strings.Join(wq, ", "), source,
			id, strings.Join(set, ", "))}}, nil
	default:
		return Step{}, fmt.Errorf("dialect %s: unknown upsert strategy %q", d.Name, d.Upsert)
	}
}
