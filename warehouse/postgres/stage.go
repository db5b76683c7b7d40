package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
	"github.com/sfsync/sfsync/warehouse/sqlstore"
)

// Stage opens a writer that lands a batch's records in t's staging table,
// inside a transaction on a connection of its own: nothing is visible
// until Close commits the rows together with the batch's record in the
// control tables, and Abort (or a crash, or the server going away) leaves
// no trace. Each Write is one COPY (binary) of its records; the Redshift
// flavor sends multi-row INSERTs instead. EnsureTable must have created
// the table.
//
// Text that is not valid UTF-8 is rejected with an error naming the
// table, column and Id; so is any value that does not fit its column (a
// decimal too wide, say). Text the server cannot store exactly (a NUL
// character) is cleaned or rejected per the text policy.
func (w *Warehouse) Stage(ctx context.Context, t sfsync.Table, b sfsync.Batch) (sfsync.Stager, error) {
	s, err := w.stage(ctx, t, b)
	if err != nil {
		return nil, w.opError(fmt.Sprintf("stage %s batch %s", t.Object, b.ID), err)
	}
	return s, nil
}

func (w *Warehouse) stage(ctx context.Context, t sfsync.Table, b sfsync.Batch) (*stager, error) {
	b, err := sqlstore.CheckBatch(w.dialect, t, b, w.now())
	if err != nil {
		return nil, err
	}
	cols, err := w.columns(ctx, w.pool, w.layout.Staging, t.Object)
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("no staging table %s.%s; call EnsureTable first", w.layout.Staging, t.Object)
	}
	s := &stager{w: w, table: t, batch: b}
	if err := s.plan(cols); err != nil {
		return nil, err
	}
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	s.tx = tx
	if err := s.begin(ctx); err != nil {
		s.Abort()
		return nil, err
	}
	return s, nil
}

// stager writes one batch; it is used by one goroutine at a time.
type stager struct {
	w     *Warehouse
	table sfsync.Table
	batch sfsync.Batch
	tx    pgx.Tx

	slots   []slot   // one per staging column, in table order
	names   []string // the staging columns, in table order
	idIdx   int      // index of the Id field in records
	seq     int64
	altered []alteration
	done    bool // committed or aborted
}

// slot says where a staging column's value comes from.
type slot struct {
	name  string
	field int    // index in the record; -1 for sfsync's own columns and retained columns
	meta  string // which of sfsync's columns
	conv  converter
}

// alteration is a stored value that differs from the record's.
type alteration struct {
	id, column, change string
}

func (s *stager) plan(cols []column) error {
	s.idIdx = -1
	for i, f := range s.table.Fields {
		if strings.EqualFold(f.Name, sqlgen.IDField(s.table)) {
			s.idIdx = i
		}
	}
	used := make([]bool, len(s.table.Fields))
	for _, c := range cols {
		sl := slot{name: c.name, field: -1}
		switch c.name {
		case sfsync.ColBatchID, sfsync.ColExtractedAt, sfsync.ColSeq:
			sl.meta = c.name
		default:
			i := s.fieldFor(c.name, used)
			if i >= 0 {
				conv, err := newConverter(s.table.Fields[i], c.typ, s.w.text, s.w.flavor.MaxTextBytes)
				if err != nil {
					return fmt.Errorf("column %s: %w", c.name, err)
				}
				sl.field, sl.conv = i, conv
				used[i] = true
			}
		}
		s.slots = append(s.slots, sl)
		s.names = append(s.names, c.name)
	}
	for i, u := range used {
		if !u {
			return fmt.Errorf("staging table %s.%s has no column for field %s; call EnsureTable first", s.w.layout.Staging, s.table.Object, s.table.Fields[i].Name)
		}
	}
	return nil
}

// fieldFor finds the unused field a column holds: the one named exactly
// like it, else one named like it in another case.
func (s *stager) fieldFor(column string, used []bool) int {
	for i, f := range s.table.Fields {
		if !used[i] && f.Name == column {
			return i
		}
	}
	for i, f := range s.table.Fields {
		if !used[i] && strings.EqualFold(f.Name, column) {
			return i
		}
	}
	return -1
}

func (s *stager) begin(ctx context.Context) error {
	st := s.w.dialect.SelectBatch(s.w.layout)
	var object string
	var staged int64
	var consolidated *time.Time
	err := s.tx.QueryRow(ctx, st.SQL, s.batch.ID).Scan(&object, &staged, &consolidated)
	switch {
	case err == nil:
		return fmt.Errorf("batch %s was already staged (%d rows of %s); batch ids are used once", s.batch.ID, staged, object)
	case !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	return nil
}

// Write lands records, converting each value to its column's type.
func (s *stager) Write(ctx context.Context, records []sfsync.Record) error {
	if s.done {
		return fmt.Errorf("stage %s batch %s: write after close", s.table.Object, s.batch.ID)
	}
	if err := s.write(ctx, records); err != nil {
		return s.w.opError(fmt.Sprintf("stage %s batch %s", s.table.Object, s.batch.ID), err)
	}
	return nil
}

func (s *stager) write(ctx context.Context, records []sfsync.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(records) == 0 {
		return nil
	}
	rows := make([][]any, len(records))
	for n, rec := range records {
		row, err := s.row(rec)
		if err != nil {
			return fmt.Errorf("record %d of the page: %w", n+1, err)
		}
		rows[n] = row
	}
	var err error
	if s.w.flavor.Staging == StageInsert {
		err = s.insert(ctx, rows)
	} else {
		_, err = s.tx.CopyFrom(ctx, pgx.Identifier{s.w.layout.Staging, s.table.Object}, s.names, pgx.CopyFromRows(rows))
	}
	if err != nil {
		return s.explain(err, records)
	}
	return nil
}

// copyLine finds the row a COPY error is about.
var copyLine = regexp.MustCompile(`line (\d+)`)

// explain names the record a server error is about, when it says.
func (s *stager) explain(err error, records []sfsync.Record) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if m := copyLine.FindStringSubmatch(pe.Where); m != nil {
			if n, _ := strconv.Atoi(m[1]); n >= 1 && n <= len(records) {
				col := ""
				if pe.ColumnName != "" {
					col = ", column " + pe.ColumnName
				}
				return fmt.Errorf("table %s%s, record %d of the page (Id %v): %w", s.table.Object, col, n, records[n-1][s.idIdx], err)
			}
		}
	}
	return fmt.Errorf("table %s: %w", s.table.Object, err)
}

// insertParams caps the parameters of one INSERT: the protocol counts them
// in 16 bits.
const insertParams = 32000

// insert lands rows with multi-row INSERT statements.
func (s *stager) insert(ctx context.Context, rows [][]any) error {
	per := max(1, min(1000, insertParams/len(s.names)))
	quoted := make([]string, len(s.names))
	for i, n := range s.names {
		quoted[i] = s.w.dialect.Quote(n)
	}
	head := fmt.Sprintf("INSERT INTO %s (%s) VALUES ", s.w.dialect.Qualified(s.w.layout.Staging, s.table.Object), strings.Join(quoted, ", "))
	for len(rows) > 0 {
		chunk := rows[:min(per, len(rows))]
		rows = rows[len(chunk):]
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, len(chunk)*len(s.names))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j, v := range r {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, v)
				b.WriteString(s.w.dialect.Param(len(args)))
			}
			b.WriteByte(')')
		}
		if _, err := s.tx.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// row converts a record to the staging columns' values.
func (s *stager) row(rec sfsync.Record) ([]any, error) {
	if len(rec) != len(s.table.Fields) {
		return nil, fmt.Errorf("%d values for %d fields", len(rec), len(s.table.Fields))
	}
	id, ok := rec[s.idIdx].(string)
	if !ok || id == "" {
		return nil, fmt.Errorf("no Id (got %T %v)", rec[s.idIdx], rec[s.idIdx])
	}
	s.seq++
	row := make([]any, len(s.slots))
	for i, sl := range s.slots {
		switch {
		case sl.field >= 0:
			v, change, err := sl.conv(rec[sl.field])
			if err != nil {
				return nil, fmt.Errorf("table %s, column %s, Id %s: %w", s.table.Object, sl.name, id, err)
			}
			if change != "" {
				s.alter(id, sl.name, change)
			}
			row[i] = v
		case sl.meta == sfsync.ColBatchID:
			row[i] = s.batch.ID
		case sl.meta == sfsync.ColExtractedAt:
			row[i] = s.batch.ExtractedAt.UTC()
		case sl.meta == sfsync.ColSeq:
			row[i] = s.seq
		default:
			row[i] = nil // a removed field's column
		}
	}
	return row, nil
}

// loggedAlterations is how many altered values a batch logs one by one;
// the rest are counted in one line (all are recorded in altered_values).
const loggedAlterations = 10

func (s *stager) alter(id, column, change string) {
	s.altered = append(s.altered, alteration{id: id, column: column, change: change})
	if len(s.altered) <= loggedAlterations {
		s.w.log.Warn("text value altered to store it", "table", s.table.Object, "column", column, "id", id,
			"change", change, "batch", s.batch.ID)
	}
}

// Close commits the rows with the batch's record and its altered values.
func (s *stager) Close(ctx context.Context) error {
	if s.done {
		return fmt.Errorf("stage %s batch %s: already closed", s.table.Object, s.batch.ID)
	}
	if err := s.close(ctx); err != nil {
		s.Abort()
		return s.w.opError(fmt.Sprintf("stage %s batch %s", s.table.Object, s.batch.ID), err)
	}
	return nil
}

func (s *stager) close(ctx context.Context) error {
	now := s.w.now()
	if len(s.altered) > 0 {
		q := s.w.dialect.InsertAlteredValue(s.w.layout)
		batch := &pgx.Batch{}
		for _, a := range s.altered {
			batch.Queue(q, s.batch.ID, s.table.Object, a.id, a.column, a.change, now)
		}
		if err := s.tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("record the altered values: %w", err)
		}
		if len(s.altered) > loggedAlterations {
			s.w.log.Warn("text values altered to store them", "table", s.table.Object, "batch", s.batch.ID,
				"values", len(s.altered), "listed_in", s.w.layout.Control+"."+sqlgen.TableAlteredValues)
		}
	}
	st := s.w.dialect.InsertBatch(s.w.layout)
	args, err := st.Bind(map[sqlgen.Arg]any{
		sqlgen.ArgBatchID:     s.batch.ID,
		sqlgen.ArgRunID:       s.batch.RunID,
		sqlgen.ArgObject:      s.table.Object,
		sqlgen.ArgExtractedAt: s.batch.ExtractedAt.UTC(),
		sqlgen.ArgStagedRows:  s.seq,
		sqlgen.ArgNow:         now,
	})
	if err != nil {
		return err
	}
	if _, err := s.tx.Exec(ctx, st.SQL, args...); err != nil {
		return fmt.Errorf("record the batch: %w", err)
	}
	if err := commit(ctx, s.tx); err != nil {
		return err
	}
	s.done = true
	s.w.log.Debug("staged batch", "object", s.table.Object, "batch", s.batch.ID, "rows", s.seq)
	return nil
}

// Abort discards the batch; safe after Close and more than once.
func (s *stager) Abort() {
	if s.done {
		return
	}
	s.done = true
	if s.tx != nil {
		rollback(context.Background(), s.tx)
	}
}
