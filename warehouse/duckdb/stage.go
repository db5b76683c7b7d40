package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
	"github.com/sfsync/sfsync/warehouse/sqlstore"
)

// Stage opens a writer that lands a batch's records in t's staging table:
// nothing is visible until Close commits the rows together with the
// batch's record in the control tables, in one transaction, and Abort (or
// a crash) leaves no trace. EnsureTable must have created the table.
//
// Records are converted and checked in Go and written as CSV to a spool
// file (see spool), which Close loads with DuckDB's read_csv in one
// INSERT ... SELECT. So a batch waiting to be staged holds no memory, in
// Go or in DuckDB, and no transaction on the database file: checkpoints of
// the batches consolidated meanwhile run (an open write transaction older
// than a commit blocks every checkpoint, and everything not checkpointed
// stays in memory). DuckDB parses the file in its own threads, instead of
// taking one call per value as its Appender does.
//
// Text round-trips exactly, NUL characters, newlines, quotes and
// megabyte values included. Text that is not valid UTF-8 is rejected with
// an error naming the table, column and Id; so is any value that does not
// fit its column (a decimal too wide, say).
func (w *Warehouse) Stage(ctx context.Context, t sfsync.Table, b sfsync.Batch) (sfsync.Stager, error) {
	s, err := w.stage(ctx, t, b)
	if err != nil {
		return nil, fmt.Errorf("stage %s batch %s: %w", t.Object, b.ID, err)
	}
	return s, nil
}

func (w *Warehouse) stage(ctx context.Context, t sfsync.Table, b sfsync.Batch) (*stager, error) {
	b, err := sqlstore.CheckBatch(w.dialect, t, b, w.now())
	if err != nil {
		return nil, err
	}
	cols, err := w.columns(ctx, w.db, w.layout.Staging, t.Object)
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

	if err := s.begin(ctx, cols); err != nil {
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

	fields  []slot   // one per staging column, in table order
	columns string   // the staging columns, quoted, in table order
	idIdx   int      // index of the Id field in records
	types   []string // read_csv types of the spool's columns: the sequence, then each field's

	spool *spool
	line  []byte // the line being encoded
	seq   int64
	done  bool // committed or aborted
}

// slot says where a staging column's value comes from.
type slot struct {
	name  string
	field int // index in the record; -1 for sfsync's own columns and retained columns
	meta  string
	enc   encoder
}

func (s *stager) plan(cols []column) error {
	s.idIdx = -1
	for i, f := range s.table.Fields {
		if strings.EqualFold(f.Name, sqlgen.IDField(s.table)) {
			s.idIdx = i
		}
	}
	used := make([]bool, len(s.table.Fields))
	s.types = []string{"BIGINT"}
	for _, c := range cols {
		sl := slot{name: c.name, field: -1}
		switch c.name {
		case sfsync.ColBatchID, sfsync.ColExtractedAt, sfsync.ColSeq:
			sl.meta = c.name
		default:
			for i, f := range s.table.Fields {
				if strings.EqualFold(f.Name, c.name) {
					enc, err := newEncoder(f, c.typ)
					if err != nil {
						return fmt.Errorf("column %s: %w", c.name, err)
					}
					// newEncoder accepts only kinds the dialect stores.
					typ, _ := s.w.dialect.KindType(c.typ.Kind, c.typ.Precision, c.typ.Scale)
					sl.field, sl.enc = i, enc
					used[i] = true
					s.types = append(s.types, typ)
				}
			}
		}
		s.fields = append(s.fields, sl)
	}
	for i, u := range used {
		if !u {
			return fmt.Errorf("staging table %s.%s has no column for field %s; call EnsureTable first", s.w.layout.Staging, s.table.Object, s.table.Fields[i].Name)
		}
	}
	return nil
}

// begin checks that the batch id is unused and creates the spool. No
// transaction is open: the batches table's primary key rejects a batch id
// staged meanwhile, at Close.
func (s *stager) begin(ctx context.Context, cols []column) error {
	st := s.w.dialect.SelectBatch(s.w.layout)
	var object string
	var staged int64
	var consolidated sql.NullTime
	err := s.w.db.QueryRowContext(ctx, st.SQL, s.batch.ID).Scan(&object, &staged, &consolidated)
	switch {
	case err == nil:
		return fmt.Errorf("batch %s was already staged (%d rows of %s); batch ids are used once", s.batch.ID, staged, object)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = s.w.dialect.Quote(c.name)
	}
	s.columns = strings.Join(names, ", ")
	sp, err := newSpool(s.w.spoolDir())
	if err != nil {
		return err
	}
	s.spool = sp
	return nil
}

// Write converts records and appends them to the spool.
func (s *stager) Write(ctx context.Context, records []sfsync.Record) error {
	if s.done {
		return fmt.Errorf("stage %s batch %s: write after close", s.table.Object, s.batch.ID)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stage %s batch %s: %w", s.table.Object, s.batch.ID, err)
	}
	for n, rec := range records {
		if err := s.encode(rec); err != nil {
			return fmt.Errorf("stage %s batch %s: record %d of the page: %w", s.table.Object, s.batch.ID, n+1, err)
		}
		if err := s.spool.line(s.line); err != nil {
			return fmt.Errorf("stage %s batch %s: write the staging spool file: %w", s.table.Object, s.batch.ID, err)
		}
	}
	return nil
}

// encode writes rec as the next CSV line into s.line: its sequence number,
// then each field's value.
func (s *stager) encode(rec sfsync.Record) error {
	if len(rec) != len(s.table.Fields) {
		return fmt.Errorf("%d values for %d fields", len(rec), len(s.table.Fields))
	}
	id, ok := rec[s.idIdx].(string)
	if !ok || id == "" {
		return fmt.Errorf("no Id (got %T %v)", rec[s.idIdx], rec[s.idIdx])
	}
	s.seq++
	line := strconv.AppendInt(s.line[:0], s.seq, 10)
	for _, sl := range s.fields {
		if sl.field < 0 {
			continue
		}
		line = append(line, ',')
		var err error
		if line, err = sl.enc(line, rec[sl.field]); err != nil {
			s.line = line
			return fmt.Errorf("table %s, column %s, Id %s: %w", s.table.Object, sl.name, id, err)
		}
	}
	s.line = append(line, '\n')
	return nil
}

// Close loads the spool into staging, committing the rows with the
// batch's record.
func (s *stager) Close(ctx context.Context) error {
	if s.done {
		return fmt.Errorf("stage %s batch %s: already closed", s.table.Object, s.batch.ID)
	}
	err := s.w.withMemory(ctx, func() error { return s.close(ctx) })
	s.Abort()
	if err != nil {
		return fmt.Errorf("stage %s batch %s: %w", s.table.Object, s.batch.ID, err)
	}
	return nil
}

func (s *stager) close(ctx context.Context) error {
	start := time.Now()
	if err := s.spool.flush(); err != nil {
		return err
	}
	// The staging columns in table order: sfsync's own from the
	// statement's arguments, fields from the spool's columns, NULL for
	// the columns of fields no longer replicated.
	exprs := make([]string, len(s.fields))
	col := 1
	for i, sl := range s.fields {
		switch {
		case sl.field >= 0:
			exprs[i] = fmt.Sprintf("c%d", col)
			col++
		case sl.meta == sfsync.ColBatchID:
			exprs[i] = "$1"
		case sl.meta == sfsync.ColExtractedAt:
			exprs[i] = "$2"
		case sl.meta == sfsync.ColSeq:
			exprs[i] = "c0"
		default:
			exprs[i] = "NULL"
		}
	}
	load := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s",
		s.w.dialect.Qualified(s.w.layout.Staging, s.table.Object), s.columns, strings.Join(exprs, ", "),
		readCSV(s.spool.path, s.types, s.spool.longest))
	tx, err := s.w.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if s.seq > 0 {
		if _, err := tx.ExecContext(ctx, load, s.batch.ID, s.batch.ExtractedAt.UTC()); err != nil {
			return fmt.Errorf("load the batch into staging: %w", err)
		}
	}
	loaded := time.Now()
	st := s.w.dialect.InsertBatch(s.w.layout)
	args, err := st.Bind(map[sqlgen.Arg]any{
		sqlgen.ArgBatchID:     s.batch.ID,
		sqlgen.ArgRunID:       s.batch.RunID,
		sqlgen.ArgObject:      s.table.Object,
		sqlgen.ArgExtractedAt: s.batch.ExtractedAt.UTC(),
		sqlgen.ArgStagedRows:  s.seq,
		sqlgen.ArgNow:         s.w.now(),
	})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, st.SQL, args...); err != nil {
		return fmt.Errorf("record the batch: %w", err)
	}
	committing := time.Now()
	if err := tx.commit(ctx); err != nil {
		return err
	}
	purgeLarge(s.seq)
	s.w.log.Debug("staged batch", "object", s.table.Object, "batch", s.batch.ID, "rows", s.seq,
		"took", time.Since(start), "load", loaded.Sub(start), "commit", time.Since(committing))
	return nil
}

// Abort discards the batch: it closes and removes the spool. Safe after
// Close and more than once.
func (s *stager) Abort() {
	if s.done {
		return
	}
	s.done = true
	if s.spool != nil {
		s.spool.close()
	}
}
