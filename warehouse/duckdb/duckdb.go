// Package duckdb is the embedded DuckDB warehouse: final, staging and
// control tables in one DuckDB file, loaded from a CSV spool by read_csv and
// consolidated (DELETE+INSERT by Id), cursor included, in one transaction.
//
// Layout (schema names configurable):
//
//	salesforce.<Object>          final tables: one typed column per field
//	                             plus _sfsync_synced_at, _sfsync_deleted,
//	                             _sfsync_deleted_at; no primary key
//	salesforce_staging.<Object>  staged batches: the same typed columns plus
//	                             _sfsync_batch_id, _sfsync_extracted_at,
//	                             _sfsync_seq
//	_sfsync.objects, batches, runs  control tables (see sqlgen.ControlTables)
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
// Tables evolve (EnsureTable) and are never dropped or narrowed: a new
// field adds a column (existing rows hold NULL); a removed field keeps its
// column, which is no longer written (upserted rows keep their value, new
// rows get NULL); a decimal whose precision or scale grows is widened to
// hold both; any other type change keeps the existing column, and staged
// values are converted to its type (text to a VARCHAR column, numbers
// between BIGINT, DECIMAL and DOUBLE, dates and times between each other);
// a value that cannot be converted fails the batch with an error naming
// the table, column and Id.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

// Options configure a DuckDB warehouse.
type Options struct {
	// Path is the database file, created when missing (with its
	// directory). ":memory:" opens a private in-memory database.
	Path string
	// Schema names; "" for the defaults salesforce, salesforce_staging
	// and _sfsync.
	FinalSchema, StagingSchema, ControlSchema string
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
	// Threads caps DuckDB's worker threads; 0 leaves DuckDB's default
	// (one per core).
	Threads int
	// MemoryLimit caps the memory DuckDB manages ("4GB", "75%"): its
	// block cache and the working memory of queries, which spill to disk
	// beyond it. "" is DefaultMemoryPerObject times Parallelism, not
	// DuckDB's own default of 80% of RAM, which a replicator running next
	// to other work should not claim: DuckDB keeps blocks cached up to
	// its limit.
	MemoryLimit string
	// Parallelism is how many objects are replicated at once, for the
	// default MemoryLimit; 0 counts as 1.
	Parallelism int
}

// Warehouse is a DuckDB database holding final, staging and control
// tables. It implements sfsync.Warehouse; its methods are safe for
// concurrent use.
type Warehouse struct {
	db      *sql.DB
	path    string
	memory  bool
	layout  sqlgen.Layout
	dialect sqlgen.Dialect
	log     *slog.Logger
	now     func() time.Time

	mem memory // DuckDB's memory_limit

	runLock chan struct{} // the run lock within this process
	ddl     sync.Mutex    // serialises schema changes, which conflict in DuckDB

	// failAt, when set, is called before each consolidation step; an
	// error fails the consolidation there. Tests use it to fault a
	// transaction midway.
	failAt func(step string) error
}

var _ sfsync.Warehouse = (*Warehouse)(nil)

// Open opens (creating if needed) the DuckDB database at opts.Path. Call
// Setup before using it. When another process has the file open, the
// error wraps sfsync.ErrBusy and says which file and what to do.
func Open(ctx context.Context, opts Options) (*Warehouse, error) {
	w := &Warehouse{
		path:    opts.Path,
		dialect: sqlgen.DuckDB(),
		log:     opts.Logger,
		now:     func() time.Time { return time.Now().UTC() },
		runLock: make(chan struct{}, 1),
	}
	def := sqlgen.DefaultLayout()
	w.layout = sqlgen.Layout{
		Final:   orDefault(opts.FinalSchema, def.Final),
		Staging: orDefault(opts.StagingSchema, def.Staging),
		Control: orDefault(opts.ControlSchema, def.Control),
	}
	if w.log == nil {
		w.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := w.dialect.CheckLayout(w.layout); err != nil {
		return nil, fmt.Errorf("open duckdb warehouse: %w", err)
	}
	if w.layout.Final == w.layout.Staging || w.layout.Final == w.layout.Control || w.layout.Staging == w.layout.Control {
		return nil, fmt.Errorf("open duckdb warehouse: final, staging and control schemas must differ (got %q, %q, %q)", w.layout.Final, w.layout.Staging, w.layout.Control)
	}
	if opts.Threads < 0 {
		return nil, fmt.Errorf("open duckdb warehouse: threads %d: want 0 (default) or more", opts.Threads)
	}
	// DuckDB memory sizes: a number and a unit, or a percentage.
	memoryLimit := regexp.MustCompile(`^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)$`)
	if opts.MemoryLimit != "" && !memoryLimit.MatchString(opts.MemoryLimit) {
		return nil, fmt.Errorf("open duckdb warehouse: memory limit %q: want a size such as 4GB or 512MiB, or a percentage such as 75%%", opts.MemoryLimit)
	}
	dsn := ""
	switch {
	case opts.Path == "":
		return nil, errors.New("open duckdb warehouse: no path; set the database file (or :memory:)")
	case opts.Path == ":memory:":
		w.memory = true
	case strings.ContainsRune(opts.Path, '?'):
		return nil, fmt.Errorf("open duckdb warehouse %s: the path may not contain '?'", opts.Path)
	default:
		abs, err := filepath.Abs(opts.Path)
		if err != nil {
			return nil, fmt.Errorf("open duckdb warehouse %s: %w", opts.Path, err)
		}
		w.path = abs
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return nil, fmt.Errorf("open duckdb warehouse %s: %w", opts.Path, err)
		}
		dsn = abs
	}
	w.mem = newMemory(opts)
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, w.openError(err)
	}
	w.db = sql.OpenDB(connector)
	settings := []string{
		"SET GLOBAL TimeZone = 'UTC'",
		fmt.Sprintf("SET GLOBAL memory_limit = '%s'", w.mem.limit),
		// Return freed pages to the system from jemalloc's background
		// threads, as they age (DuckDB's decay time, about a second),
		// instead of only when a later allocation happens to purge them:
		// about 60MB less peak RSS for a 100,000-row batch.
		"SET GLOBAL allocator_background_threads = true",
		// sfsync's tables have no meaningful row order (staging carries
		// each row's position in _sfsync_seq): without keeping insertion
		// order, read_csv loads a batch in parallel without reordering,
		// about a third faster (docs/benchmarks.md), in less memory.
		"SET GLOBAL preserve_insertion_order = false",
	}
	if opts.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET GLOBAL threads = %d", opts.Threads))
	}
	for _, s := range settings {
		if _, err := w.db.ExecContext(ctx, s); err != nil {
			w.db.Close()
			return nil, fmt.Errorf("open duckdb warehouse %s: %s: %w", w.name(), s, err)
		}
	}
	w.log.Debug("opened duckdb warehouse", "path", w.name())
	return w, nil
}

// openError explains a failed open. DuckDB reports a file held by another
// process only in its message ("Could not set lock on file ...:
// Conflicting lock is held in <program> (PID n)"), so that text is the
// only way to tell it from other I/O errors.
func (w *Warehouse) openError(err error) error {
	var de *duckdb.Error
	if errors.As(err, &de) && de.Type == duckdb.ErrorTypeIO && strings.Contains(de.Msg, "lock") {
		return fmt.Errorf("open duckdb warehouse %s: %w: another process has the database file open (%s); stop that process (a running sfsync, or a DuckDB shell or notebook using the file) and try again", w.path, sfsync.ErrBusy, de.Msg)
	}
	return fmt.Errorf("open duckdb warehouse %s: %w", w.name(), err)
}

func (w *Warehouse) name() string {
	if w.memory {
		return ":memory:"
	}
	return w.path
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// DB returns the database handle, for reading the tables directly.
func (w *Warehouse) DB() *sql.DB { return w.db }

// Layout returns the schema names in use.
func (w *Warehouse) Layout() sqlgen.Layout { return w.layout }

// MaxIdentifierLength is 0: DuckDB has no identifier length limit.
func (w *Warehouse) MaxIdentifierLength() int { return w.dialect.MaxIdentifierLength }

// Close closes the database.
func (w *Warehouse) Close() error {
	if err := w.db.Close(); err != nil {
		return fmt.Errorf("close duckdb warehouse %s: %w", w.name(), err)
	}
	return nil
}

// Setup creates the schemas and control tables when missing.
func (w *Warehouse) Setup(ctx context.Context) error {
	w.ddl.Lock()
	defer w.ddl.Unlock()
	var stmts []string
	for _, s := range []string{w.layout.Final, w.layout.Staging, w.layout.Control} {
		q, err := w.dialect.CreateSchema(s)
		if err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		stmts = append(stmts, q)
	}
	ctl, err := w.dialect.ControlTables(w.layout.Control)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	stmts = append(stmts, ctl...)
	err = w.inTx(ctx, func(tx *txn) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return w.addControlColumns(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("setup %s: %w", w.name(), err)
	}
	return nil
}

// inTx runs fn in a transaction, committing when it returns nil.
func (w *Warehouse) inTx(ctx context.Context, fn func(*txn) error) error {
	tx, err := w.begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.rollback()
		return err
	}
	return tx.commit(ctx)
}

// txn is a transaction on a connection of its own. database/sql's Tx
// rolls back from a goroutine when its context is cancelled, racing the
// statement in flight; with the DuckDB driver that can return a
// connection to the pool with a transaction still open. A txn instead
// sends BEGIN, COMMIT and ROLLBACK itself, uncancellable, and discards
// its connection whenever a rollback could not be confirmed.
type txn struct {
	w    *Warehouse
	conn *sql.Conn
	open bool
}

func (w *Warehouse) begin(ctx context.Context) (*txn, error) {
	t, err := w.conn(ctx)
	if err != nil {
		return nil, err
	}
	if err := t.start(ctx); err != nil {
		t.discard()
		return nil, err
	}
	return t, nil
}

// conn takes a connection of its own, with no transaction open yet: start
// opens one.
func (w *Warehouse) conn(ctx context.Context) (*txn, error) {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &txn{w: w, conn: conn}, nil
}

// start sends BEGIN, unless ctx is done. On an error the connection's
// state is unknown: discard it.
func (t *txn) start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := t.conn.ExecContext(context.WithoutCancel(ctx), "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t.open = true
	return nil
}

// ExecContext runs a statement in the transaction.
func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.conn.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction.
func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.conn.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query in the transaction.
func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.conn.QueryRowContext(ctx, query, args...)
}

// commit commits unless ctx is done; on failure everything is rolled back.
func (t *txn) commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		t.rollback()
		return err
	}
	if _, err := t.conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		t.rollback()
		return fmt.Errorf("commit: %w", err)
	}
	t.open = false
	err := t.conn.Close()
	t.conn = nil
	return err
}

// rollback ends the transaction, discarding the connection if it cannot
// confirm the rollback. Safe after commit.
func (t *txn) rollback() {
	if t.conn == nil {
		return
	}
	if t.open {
		t.open = false
		if _, err := t.conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.w.log.Warn("rollback did not complete; discarding the connection", "err", err)
			t.discard()
			return
		}
	}
	t.conn.Close()
	t.conn = nil
}

// discard closes the connection instead of returning it to the pool:
// database/sql drops a connection whose Raw callback reports ErrBadConn.
func (t *txn) discard() {
	_ = t.conn.Raw(func(any) error { return driver.ErrBadConn })
	t.conn.Close()
	t.conn = nil
}

// execer is what runs statements: the database, a transaction or a
// connection.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
