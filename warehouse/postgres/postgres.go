// Package postgres is the PostgreSQL warehouse: final, staging and control
// tables in one PostgreSQL database (15 or later), loaded with COPY into
// unlogged staging tables and consolidated, cursor included, in one
// transaction.
//
// Layout (schema names configurable):
//
//	salesforce.<Object>          final tables: one typed column per field,
//	                             Id the primary key, plus
//	                             _sfsync_synced_at, _sfsync_deleted,
//	                             _sfsync_deleted_at
//	salesforce_staging.<Object>  unlogged staging tables: the same typed
//	                             columns plus _sfsync_batch_id,
//	                             _sfsync_extracted_at, _sfsync_seq
//	_sfsync.objects, batches, runs, altered_values
//	                             control tables (see sqlgen.ControlTables
//	                             and sqlgen.AlteredValuesTable)
//
// Column types by value kind (sfsync.Field.Kind):
//
//	string    TEXT
//	bool      BOOLEAN
//	int       BIGINT
//	decimal   NUMERIC(precision, scale)
//	float     DOUBLE PRECISION
//	date      DATE
//	time      TIME
//	datetime  TIMESTAMPTZ
//
// Tables evolve as in the DuckDB warehouse: new fields add columns, decimal
// columns widen, nothing is dropped or narrowed, and values of a field whose
// type changed are converted to the column's type or rejected with an error
// naming the table, column and Id.
//
// TEXT cannot hold a NUL character. By default (TextClean) staging removes
// NUL characters, logs each altered value with its table, column and Id,
// and records it in the control table altered_values with the batch;
// TextReject fails the batch instead.
//
// The run lock is a session advisory lock held on a connection of its own
// for the lock's lifetime. The connection string may name any database the
// user can create schemas in; see docs/postgres.md.
//
// The same code drives Amazon Redshift, which speaks PostgreSQL's protocol
// but not all of its SQL: a Flavor says what differs, and package redshift
// supplies Redshift's.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

// TextPolicy says what staging does with text the warehouse cannot store
// exactly: a NUL character (PostgreSQL, Redshift) or text longer than the
// widest column (Redshift's 65535 bytes).
type TextPolicy string

// Text policies.
const (
	// TextClean stores what it can: NUL characters are removed and text
	// too long is cut at a character boundary. Each altered value is
	// logged with its table, column and Id and recorded, with its batch,
	// in the control table altered_values.
	TextClean TextPolicy = "clean"
	// TextReject fails the batch with an error naming the table, column
	// and Id.
	TextReject TextPolicy = "reject"
)

// Options configure a PostgreSQL warehouse.
type Options struct {
	// DSN is the connection string, a URL
	// (postgres://user:password@host:5432/database?sslmode=require) or
	// key=value pairs; the libpq environment variables (PGHOST,
	// PGPASSWORD, ...) fill in what it leaves out.
	DSN sfsync.Secret
	// Schema names; "" for the defaults salesforce, salesforce_staging
	// and _sfsync.
	FinalSchema, StagingSchema, ControlSchema string
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
	// MaxConns caps the connection pool; 0 for the default, 10. Each
	// object being replicated holds up to two connections at once (a
	// batch staging while the previous one consolidates), so the cap must
	// be more than twice the objects replicated at once.
	MaxConns int
	// Text is what staging does with text the server cannot store
	// exactly; "" for TextClean.
	Text TextPolicy
}

// StagingMethod is how a Flavor lands batches in staging tables.
type StagingMethod string

// Staging methods.
const (
	StageCopy   StagingMethod = "copy"   // COPY FROM STDIN (binary)
	StageInsert StagingMethod = "insert" // multi-row INSERT ... VALUES
)

// LockMethod is how a Flavor holds the run lock.
type LockMethod string

// Lock methods.
const (
	LockAdvisory LockMethod = "advisory" // a session advisory lock on a connection of its own
	LockLease    LockMethod = "lease"    // a row in the control table run_lock, renewed while held
)

// Flavor says how the warehouse uses a server that speaks PostgreSQL's
// protocol. PostgreSQL returns PostgreSQL's; package redshift builds
// Amazon Redshift's.
type Flavor struct {
	// Name names the engine in messages ("postgres", "redshift").
	Name string
	// Dialect renders the SQL.
	Dialect sqlgen.Dialect
	// Staging is StageCopy or StageInsert.
	Staging StagingMethod
	// Lock is LockAdvisory or LockLease.
	Lock LockMethod
	// MaxTextBytes is the longest text a column holds; 0 for no limit.
	MaxTextBytes int
	// ExecMode is how pgx sends statements; 0 describes each statement
	// before executing it, with binary parameters.
	ExecMode pgx.QueryExecMode
	// Adapt inspects the server and returns the session statements to run
	// on every new connection, or an error when the flavor cannot use
	// the server.
	Adapt func(s Server) (session []string, err error)
}

// Server describes the server a warehouse connected to.
type Server struct {
	Version    string // version()
	VersionNum int    // server_version_num; 0 for Redshift
	Redshift   bool
}

// PostgreSQL is the flavor of PostgreSQL 13 and later (tested with 15):
// COPY staging into unlogged tables, INSERT ... ON CONFLICT consolidation
// (see Consolidate for why not MERGE), advisory locks.
func PostgreSQL() Flavor {
	return Flavor{
		Name:    "postgres",
		Dialect: sqlgen.PostgreSQL(),
		Staging: StageCopy,
		Lock:    LockAdvisory,
		Adapt: func(s Server) ([]string, error) {
			if s.Redshift {
				return nil, errors.New("the server is Amazon Redshift; use the redshift warehouse type")
			}
			if s.VersionNum < 130000 {
				return nil, fmt.Errorf("the server runs PostgreSQL %s; sfsync needs PostgreSQL 13 or later", serverVersion(s.VersionNum))
			}
			return nil, nil
		},
	}
}

func serverVersion(num int) string {
	if num == 0 {
		return "(unknown version)"
	}
	return fmt.Sprintf("%d.%d", num/10000, num%10000)
}

// Warehouse is a PostgreSQL database holding final, staging and control
// tables. It implements sfsync.Warehouse; its methods are safe for
// concurrent use.
type Warehouse struct {
	pool    *pgxpool.Pool
	db      *sql.DB
	cfg     *pgxpool.Config
	flavor  Flavor
	dialect sqlgen.Dialect
	layout  sqlgen.Layout
	text    TextPolicy
	log     *slog.Logger
	now     func() time.Time
	target  string // user@host:port/database, for messages; never the password

	// fence, when set, is the lease owner a service session consolidates
	// as: each consolidation first checks and holds that owner's lease on
	// its object (see holdLease).
	fence string
	// failAt, when set, is called before each consolidation step; an
	// error fails the consolidation there. Tests use it to fault or
	// interrupt a transaction midway.
	failAt func(step string) error
}

var _ sfsync.Warehouse = (*Warehouse)(nil)

// Open connects to the PostgreSQL database opts.DSN names. Call Setup
// before using it. Errors say what to do: a database that does not exist,
// a refused connection, a failed login.
func Open(ctx context.Context, opts Options) (*Warehouse, error) {
	return OpenFlavor(ctx, opts, PostgreSQL())
}

// OpenFlavor connects to a server of the given flavor.
func OpenFlavor(ctx context.Context, opts Options, f Flavor) (*Warehouse, error) {
	w := &Warehouse{
		flavor:  f,
		dialect: f.Dialect,
		text:    opts.Text,
		log:     opts.Logger,
		now:     func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	if w.log == nil {
		w.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if w.text == "" {
		w.text = TextClean
	}
	what := "open " + f.Name + " warehouse"
	if w.text != TextClean && w.text != TextReject {
		return nil, fmt.Errorf("%s: text policy %q: want %q or %q", what, w.text, TextClean, TextReject)
	}
	def := sqlgen.DefaultLayout()
	w.layout = sqlgen.Layout{
		Final:   orDefault(opts.FinalSchema, def.Final),
		Staging: orDefault(opts.StagingSchema, def.Staging),
		Control: orDefault(opts.ControlSchema, def.Control),
	}
	if err := w.dialect.CheckLayout(w.layout); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if w.layout.Final == w.layout.Staging || w.layout.Final == w.layout.Control || w.layout.Staging == w.layout.Control {
		return nil, fmt.Errorf("%s: final, staging and control schemas must differ (got %q, %q, %q)", what, w.layout.Final, w.layout.Staging, w.layout.Control)
	}
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("%s: max connections %d: want 0 (default) or more", what, opts.MaxConns)
	}
	if opts.DSN.IsZero() {
		return nil, fmt.Errorf("%s: no connection string; set warehouse.dsn (postgres://user:password@host:5432/database)", what)
	}
	cfg, err := pgxpool.ParseConfig(opts.DSN.Reveal())
	if err != nil {
		// The parser's message may quote the connection string, password
		// included: say only that it did not parse.
		return nil, fmt.Errorf("%s: the connection string does not parse; want postgres://user:password@host:5432/database?sslmode=... or host=... dbname=... key=value pairs", what)
	}
	cfg.MaxConns = 10
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(opts.MaxConns)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "sfsync"
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// Tables change shape between statements of the same text (SELECT *
	// after a column was added), which a cached prepared statement
	// rejects; sfsync runs few statements per batch, so it describes each
	// one afresh.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeDescribeExec
	if f.ExecMode != 0 {
		cfg.ConnConfig.DefaultQueryExecMode = f.ExecMode
	}
	w.cfg = cfg
	cc := cfg.ConnConfig
	w.target = fmt.Sprintf("%s@%s:%d/%s", cc.User, cc.Host, cc.Port, cc.Database)

	srv, err := w.inspectServer(ctx)
	if err != nil {
		return nil, w.connectError(what, err)
	}
	var session []string
	if f.Adapt != nil {
		if session, err = f.Adapt(srv); err != nil {
			return nil, fmt.Errorf("%s %s: %w", what, w.target, err)
		}
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		for _, s := range session {
			if _, err := c.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, w.connectError(what, err)
	}
	w.pool = pool
	w.db = stdlib.OpenDBFromPool(pool)
	w.log.Debug("opened warehouse", "engine", f.Name, "target", w.target)
	return w, nil
}

// inspectServer connects once to read the server's version and, from
// PostgreSQL, its identifier limit, which tightens the dialect's when the
// server keeps fewer bytes.
func (w *Warehouse) inspectServer(ctx context.Context) (Server, error) {
	var srv Server
	c, err := pgx.ConnectConfig(ctx, w.cfg.ConnConfig.Copy())
	if err != nil {
		return srv, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	if err := c.QueryRow(ctx, "SELECT version()").Scan(&srv.Version); err != nil {
		return srv, err
	}
	if strings.Contains(srv.Version, "Redshift") {
		srv.Redshift = true
		return srv, nil
	}
	var num, limit string
	if err := c.QueryRow(ctx, "SELECT current_setting('server_version_num'), current_setting('max_identifier_length')").Scan(&num, &limit); err != nil {
		return srv, err
	}
	srv.VersionNum, _ = strconv.Atoi(num)
	if l, err := strconv.Atoi(limit); err == nil && l > 0 && (w.dialect.MaxIdentifierLength == 0 || l < w.dialect.MaxIdentifierLength) {
		w.dialect.MaxIdentifierLength = l
	}
	return srv, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// connectError explains a failed connection.
func (w *Warehouse) connectError(what string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "3D000": // invalid_catalog_name
			return fmt.Errorf("%s %s: database %q does not exist; create it (CREATE DATABASE %s) or point warehouse.dsn at an existing one: %w",
				what, w.target, w.cfg.ConnConfig.Database, w.dialect.Quote(w.cfg.ConnConfig.Database), err)
		case "28P01", "28000": // invalid_password, invalid_authorization_specification
			return fmt.Errorf("%s %s: the server refused the login of user %q; check the user and password in warehouse.dsn: %w",
				what, w.target, w.cfg.ConnConfig.User, err)
		case "57P03": // cannot_connect_now
			return fmt.Errorf("%s %s: the server is starting up or shutting down; try again shortly: %w", what, w.target, err)
		}
	}
	if isConnectionLost(err) {
		return fmt.Errorf("%s %s: cannot reach the server; check that it is running and that warehouse.dsn names the right host and port: %w", what, w.target, err)
	}
	return fmt.Errorf("%s %s: %w", what, w.target, err)
}

// DB returns a database/sql handle on the warehouse's pool, for reading
// the tables directly.
func (w *Warehouse) DB() *sql.DB { return w.db }

// Layout returns the schema names in use.
func (w *Warehouse) Layout() sqlgen.Layout { return w.layout }

// Dialect returns the SQL dialect in use, adjusted to the server.
func (w *Warehouse) Dialect() sqlgen.Dialect { return w.dialect }

// MaxIdentifierLength is the longest table or column name the server keeps
// intact, in bytes (63 for PostgreSQL).
func (w *Warehouse) MaxIdentifierLength() int { return w.dialect.MaxIdentifierLength }

// StoredText returns the text the warehouse stores for s (NUL characters
// removed; cut to the flavor's MaxTextBytes), and false when staging s
// fails instead (TextReject). It is how the conformance suite learns what
// to expect (warehousetest.TextStorer).
func (w *Warehouse) StoredText(s string) (string, bool) {
	out, changes := cleanText(s, w.flavor.MaxTextBytes)
	if changes != "" && w.text == TextReject {
		return "", false
	}
	return out, true
}

// Close closes the connection pool.
func (w *Warehouse) Close() error {
	if err := w.db.Close(); err != nil {
		w.pool.Close()
		return fmt.Errorf("close %s warehouse %s: %w", w.flavor.Name, w.target, err)
	}
	w.pool.Close()
	return nil
}

// Setup creates the schemas and control tables when missing. A user
// without the right to create them gets an error saying which grant is
// missing.
func (w *Warehouse) Setup(ctx context.Context) error {
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
	altered, err := w.dialect.AlteredValuesTable(w.layout.Control)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	stmts = append(stmts, altered)
	if w.flavor.Lock == LockLease {
		lease, err := w.dialect.RunLockTable(w.layout.Control)
		if err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		stmts = append(stmts, lease)
	}
	// Schemas first, each on its own, so that a missing privilege is
	// reported for the schema at fault. CREATE SCHEMA IF NOT EXISTS still
	// needs the CREATE privilege on the database, so an existing schema
	// is not created again.
	for i, s := range []string{w.layout.Final, w.layout.Staging, w.layout.Control} {
		var exists bool
		if err := w.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", s).Scan(&exists); err != nil {
			return w.opError(fmt.Sprintf("setup %s", w.target), err)
		}
		if exists {
			continue
		}
		err := w.inTx(ctx, func(tx pgx.Tx) error {
			if err := w.lockDDL(ctx, tx); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, stmts[i])
			return err
		})
		if err != nil {
			return w.opError(fmt.Sprintf("setup %s: create schema %s", w.target, s), err)
		}
	}
	err = w.inTx(ctx, func(tx pgx.Tx) error {
		if err := w.lockDDL(ctx, tx); err != nil {
			return err
		}
		for _, q := range stmts[3:] {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return w.addControlColumns(ctx, tx)
	})
	if err != nil {
		return w.opError(fmt.Sprintf("setup %s: create the control tables in schema %s", w.target, w.layout.Control), err)
	}
	return nil
}

// opError explains an error of a statement: a missing privilege, a lost
// connection, or anything else as it is.
func (w *Warehouse) opError(what string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege
		return fmt.Errorf("%s: user %q lacks a privilege (%s); grant it CREATE on the database (GRANT CREATE ON DATABASE %s TO %s), or have an administrator create the schemas %s, %s and %s and grant it USAGE and CREATE on each (see docs/postgres.md): %w",
			what, w.cfg.ConnConfig.User, pe.Message, w.dialect.Quote(w.cfg.ConnConfig.Database), w.dialect.Quote(w.cfg.ConnConfig.User),
			w.layout.Final, w.layout.Staging, w.layout.Control, err)
	}
	if isConnectionLost(err) {
		return fmt.Errorf("%s: the connection to %s was lost; the open transaction was rolled back, so nothing of it was applied; run again once the server is reachable: %w", what, w.target, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isConnectionLost reports whether err means the server went away (it shut
// down, terminated the session, or the network failed), as opposed to a
// statement error.
func isConnectionLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		case strings.HasPrefix(pe.Code, "08"): // connection_exception
			return true
		}
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.As(err, &ne)
}

// inTx runs fn in a transaction, committing when it returns nil. The
// commit and rollback themselves are not cancelled with ctx: a commit
// interrupted midway would leave its outcome unknown. When ctx is done
// before the commit, the transaction rolls back.
func (w *Warehouse) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		rollback(ctx, tx)
		return err
	}
	return commit(ctx, tx)
}

func commit(ctx context.Context, tx pgx.Tx) error {
	if err := ctx.Err(); err != nil {
		rollback(ctx, tx)
		return err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	if err := tx.Commit(cctx); err != nil {
		rollback(ctx, tx)
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// rollback ends tx. A connection that cannot confirm the rollback is
// closed (by pgx) and dropped from the pool, which rolls the transaction
// back on the server.
func rollback(ctx context.Context, tx pgx.Tx) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	_ = tx.Rollback(rctx)
}
