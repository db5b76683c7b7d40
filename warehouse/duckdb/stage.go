package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

// Stage opens a writer that appends a batch's records to t's staging table
// on a connection of its own: nothing is visible until Close commits the
// rows together with the batch's record in the control tables, in one
// transaction, and Abort (or a crash) leaves no trace. EnsureTable must
// have created the table.
//
// Records go through DuckDB's Appender into a temporary table of the
// stager's connection, flushed every stageFlushRows rows, and Close copies
// that table into staging. So the batch waits in memory DuckDB manages,
// within its memory_limit and spilled to disk beyond it, not in the
// Appender's own buffer, which DuckDB neither counts nor spills and which
// would otherwise hold up to 204,800 rows. The temporary table is not part
// of the database file: writing it opens no transaction there, which
// leaves DuckDB free to checkpoint the batches consolidated meanwhile (an
// open write transaction older than a commit blocks every checkpoint, and
// everything not checkpointed stays in memory), and a crash loses it with
// the process.
//
// Text round-trips exactly, NUL characters, newlines, quotes and
// megabyte values included: the Appender passes strings with their length.
// Text that is not valid UTF-8, which DuckDB would silently store as NULL,
// is rejected with an error naming the table, column and Id; so is any
// value that does not fit its column (a decimal too wide, say).
func (w *Warehouse) Stage(ctx context.Context, t sfsync.Table, b sfsync.Batch) (sfsync.Stager, error) {
	s, err := w.stage(ctx, t, b)
	if err != nil {
		return nil, fmt.Errorf("stage %s batch %s: %w", t.Object, b.ID, err)
	}
	return s, nil
}

func (w *Warehouse) stage(ctx context.Context, t sfsync.Table, b sfsync.Batch) (*stager, error) {
	if err := w.dialect.CheckTable(t); err != nil {
		return nil, err
	}
	if b.ID == "" {
		return nil, errors.New("the batch has no id")
	}
	if b.Object != "" && b.Object != t.Object {
		return nil, fmt.Errorf("the batch belongs to object %s", b.Object)
	}
	if b.ExtractedAt.IsZero() {
		b.ExtractedAt = w.now()
	}
	b.Object = t.Object
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

	tx, err := w.conn(ctx)
	if err != nil {
		return nil, err
	}
	s.tx = tx
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
	tx    *txn // on a connection of its own, which holds the temporary table; open only in Close

	fields  []slot // one per staging column, in table order
	columns string // the staging columns, quoted, in table order
	idIdx   int    // index of the Id field in records

	app     *duckdb.Appender // appends to the temporary table
	pending int              // rows appended since the last flush
	seq     int64
	row     []driver.Value
	done    bool // committed or aborted
}

// slot says where a staging column's value comes from.
type slot struct {
	name  string
	field int // index in the record; -1 for sfsync's own columns and retained columns
	meta  string
	conv  converter
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
			for i, f := range s.table.Fields {
				if strings.EqualFold(f.Name, c.name) {
					conv, err := newConverter(f, c.typ)
					if err != nil {
						return fmt.Errorf("column %s: %w", c.name, err)
					}
					sl.field, sl.conv = i, conv
					used[i] = true
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
	s.row = make([]driver.Value, len(cols))
	return nil
}

// stageFlushRows is how many rows the Appender buffers before Write
// flushes them into the temporary table: five vectors of 2048, a few
// megabytes of a 30-field object.
const stageFlushRows = 5 * 2048

// stageTable is the stager's temporary table, in its connection's
// temporary catalog.
const stageTable = "_sfsync_stage"

// begin checks that the batch id is unused, creates the temporary table
// with the staging table's columns, and the Appender on it. No transaction
// is open: the batches table's primary key rejects a batch id staged
// meanwhile, at Close.
func (s *stager) begin(ctx context.Context, cols []column) error {
	st := s.w.dialect.SelectBatch(s.w.layout)
	var object string
	var staged int64
	var consolidated sql.NullTime
	err := s.tx.QueryRowContext(ctx, st.SQL, s.batch.ID).Scan(&object, &staged, &consolidated)
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
	create := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT %s FROM %s LIMIT 0",
		s.w.dialect.Quote(stageTable), s.columns, s.w.dialect.Qualified(s.w.layout.Staging, s.table.Object))
	if _, err := s.tx.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create the temporary table: %w", err)
	}
	return s.tx.conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		app, err := duckdb.NewAppender(c, "temp", "main", stageTable)
		if err != nil {
			return err
		}
		s.app = app
		return nil
	})
}

// Write appends records, converting each value to its column's type.
func (s *stager) Write(ctx context.Context, records []sfsync.Record) error {
	if s.done {
		return fmt.Errorf("stage %s batch %s: write after close", s.table.Object, s.batch.ID)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stage %s batch %s: %w", s.table.Object, s.batch.ID, err)
	}
	err := s.tx.conn.Raw(func(any) error {
		for n, rec := range records {
			if err := s.fill(rec); err != nil {
				return fmt.Errorf("record %d of the page: %w", n+1, err)
			}
			if err := s.app.AppendRow(s.row...); err != nil {
				return fmt.Errorf("record %d (Id %v): %w", n+1, rec[s.idIdx], err)
			}
			if s.pending++; s.pending >= stageFlushRows {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := s.app.Flush(); err != nil {
					return err
				}
				s.pending = 0
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("stage %s batch %s: %w", s.table.Object, s.batch.ID, err)
	}
	return nil
}

func (s *stager) fill(rec sfsync.Record) error {
	if len(rec) != len(s.table.Fields) {
		return fmt.Errorf("%d values for %d fields", len(rec), len(s.table.Fields))
	}
	id, ok := rec[s.idIdx].(string)
	if !ok || id == "" {
		return fmt.Errorf("no Id (got %T %v)", rec[s.idIdx], rec[s.idIdx])
	}
	s.seq++
	for i, sl := range s.fields {
		switch {
		case sl.field >= 0:
			v, err := sl.conv(rec[sl.field])
			if err != nil {
				return fmt.Errorf("table %s, column %s, Id %s: %w", s.table.Object, sl.name, id, err)
			}
			s.row[i] = v
		case sl.meta == sfsync.ColBatchID:
			s.row[i] = s.batch.ID
		case sl.meta == sfsync.ColExtractedAt:
			s.row[i] = s.batch.ExtractedAt.UTC()
		case sl.meta == sfsync.ColSeq:
			s.row[i] = s.seq
		default:
			s.row[i] = nil // a removed field's column
		}
	}
	return nil
}

// Close flushes the Appender and copies the temporary table into staging,
// committing the rows with the batch's record.
func (s *stager) Close(ctx context.Context) error {
	if s.done {
		return fmt.Errorf("stage %s batch %s: already closed", s.table.Object, s.batch.ID)
	}
	if err := s.close(ctx); err != nil {
		s.Abort()
		return fmt.Errorf("stage %s batch %s: %w", s.table.Object, s.batch.ID, err)
	}
	return nil
}

func (s *stager) close(ctx context.Context) error {
	start := time.Now()
	err := s.tx.conn.Raw(func(any) error {
		app := s.app
		s.app = nil
		return app.CloseWithCancel(ctx)
	})
	if err != nil {
		return err
	}
	if err := s.tx.start(ctx); err != nil {
		return err
	}
	copyRows := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s",
		s.w.dialect.Qualified(s.w.layout.Staging, s.table.Object), s.columns, s.columns, s.w.dialect.Quote(stageTable))
	if _, err := s.tx.ExecContext(ctx, copyRows); err != nil {
		return fmt.Errorf("copy the batch into staging: %w", err)
	}
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
	if _, err := s.tx.ExecContext(ctx, st.SQL, args...); err != nil {
		return fmt.Errorf("record the batch: %w", err)
	}
	// The connection outlives the commit (which returns it to the pool),
	// and the temporary table with it: drop the table first. A
	// transaction that writes the database file may drop a temporary
	// table.
	if _, err := s.tx.ExecContext(ctx, "DROP TABLE "+s.w.dialect.Quote(stageTable)); err != nil {
		return fmt.Errorf("drop the temporary table: %w", err)
	}
	if err := s.commit(ctx); err != nil {
		return err
	}
	s.done = true
	s.w.log.Debug("staged batch", "object", s.table.Object, "batch", s.batch.ID, "rows", s.seq, "took", time.Since(start))
	return nil
}

// commit commits unless ctx is done and returns the connection to the
// pool. On an error the connection is left to Abort, which closes it: a
// rollback would bring the temporary table back.
func (s *stager) commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := s.tx.conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.tx.open = false
	err := s.tx.conn.Close()
	s.tx.conn = nil
	return err
}

// Abort discards the batch; safe after Close and more than once. The
// connection is closed rather than returned to the pool, which drops the
// temporary table with it.
func (s *stager) Abort() {
	if s.done {
		return
	}
	s.done = true
	if s.tx == nil || s.tx.conn == nil {
		return
	}
	if s.app != nil {
		_ = s.tx.conn.Raw(func(any) error {
			_ = s.app.Clear()
			return s.app.Close()
		})
		s.app = nil
	}
	s.tx.discard()
}
