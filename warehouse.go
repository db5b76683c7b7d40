package sfsync

import (
	"context"
	"time"
)

// Table is an object as a warehouse stores it: a final table and a staging
// table named after the object, with one column per field.
type Table struct {
	// Object is the Salesforce API name; it is also the table name.
	Object string
	// Fields are the replicated fields, Id first, in the order staged
	// Records carry them.
	Fields []Field
	// CursorField orders versions of a record ("SystemModstamp", ...): the
	// latest wins. "" for objects that are only fully refreshed.
	CursorField string
	// DeletedField is "IsDeleted" when the object has it, else "".
	DeletedField string
}

// Columns every final table has besides its fields.
const (
	ColSyncedAt  = "_sfsync_synced_at"  // when sfsync last wrote the row
	ColDeleted   = "_sfsync_deleted"    // soft delete mode: the source deleted the row
	ColDeletedAt = "_sfsync_deleted_at" // when the delete was seen (the row's cursor value, or the full refresh time)
)

// Columns every staging table has besides its fields.
const (
	ColBatchID     = "_sfsync_batch_id"     // the batch the row came in
	ColExtractedAt = "_sfsync_extracted_at" // when it was extracted
	ColSeq         = "_sfsync_seq"          // position in the batch; later wins among equal cursors
)

// DeleteMode says what consolidation does with a deleted source record.
type DeleteMode string

// Delete modes.
const (
	// DeleteSoft keeps the row with _sfsync_deleted = true and
	// _sfsync_deleted_at set; an undelete clears both.
	DeleteSoft DeleteMode = "soft"
	// DeleteHard removes the row; an undelete inserts it again.
	DeleteHard DeleteMode = "hard"
)

// Batch identifies rows staged together and consolidated together.
type Batch struct {
	ID          string
	RunID       string
	Object      string
	ExtractedAt time.Time
}

// Consolidation asks a warehouse to merge one staged batch into the final
// table.
type Consolidation struct {
	Batch Batch
	Mode  DeleteMode
	// FullRefresh: the batch holds every record of the object, so final rows
	// whose Id is not in it are deleted (per Mode) as of Batch.ExtractedAt.
	FullRefresh bool
	// Cursor is stored for the object in the same transaction.
	Cursor Cursor
	// DropStaged deletes the batch's staged rows in the same transaction,
	// for runs that keep no staging for replay: staging then holds about
	// one batch instead of growing with the run, and no later cleanup
	// has to find them. The batch's record stays, so a replay is still
	// recognised.
	DropStaged bool
}

// Cursor is how far an object is replicated: every record whose cursor field
// is before Time has been consolidated, except late commits, which the next
// window's lookback re-reads.
type Cursor struct {
	Field string
	Time  time.Time // zero: nothing replicated yet
}

// ConsolidateResult counts what a consolidation changed.
type ConsolidateResult struct {
	Staged   int64 // rows in the batch
	Upserted int64 // final rows inserted or updated
	Deleted  int64 // final rows deleted or flagged deleted
	// Replayed: the batch had been consolidated before; nothing changed.
	Replayed bool
}

// RunStatus is the outcome of one object's run.
type RunStatus string

// Run outcomes.
const (
	RunRunning  RunStatus = "running"
	RunComplete RunStatus = "complete" // the window was fully replicated
	RunPartial  RunStatus = "partial"  // some of it was; Reason says why
	RunFailed   RunStatus = "failed"   // nothing new was committed; Error says why
)

// Run is one run of one object, as recorded in the control tables.
type Run struct {
	ID         string
	Object     string
	Full       bool
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
	Status     RunStatus
	Reason     string // for partial runs
	Error      string // for failed runs
	// Window extracted; From is zero for a first or full load.
	WindowFrom, WindowTo time.Time
	CursorBefore         time.Time
	CursorAfter          time.Time
	RowsExtracted        int64
	RowsUpserted         int64
	RowsDeleted          int64
	// APICalls is how many API requests the run made; BulkJobs how many
	// of them created a Bulk API 2.0 query job (each counts against the
	// org's daily job allowance too).
	APICalls int64
	BulkJobs int64
}

// ObjectState is what the control tables hold for one object.
type ObjectState struct {
	Object      string
	Cursor      Cursor
	Rows        int64 // live rows in the final table (not flagged deleted)
	LastRun     *Run  // nil before the first run
	LastSuccess time.Time
}

// Warehouse is where replicas live: final tables, staging tables and the
// control tables (objects, cursors, runs, batches) in one database, so that
// data and cursor commit together.
//
// A Warehouse is used by one run at a time (see Lock); its methods may be
// called from several goroutines for different objects. Every method takes a
// context and stops when it is cancelled; a method that returns an error has
// changed nothing it did not commit before.
type Warehouse interface {
	// Setup creates the control schema and tables when missing. Idempotent.
	Setup(ctx context.Context) error
	// Lock takes the warehouse-wide run lock. When another process holds it,
	// Lock returns an error wrapping ErrBusy, or blocks until ctx is done if
	// wait is set. release frees it and is safe to call more than once.
	Lock(ctx context.Context, wait bool) (release func(), err error)
	// EnsureTable creates or evolves the staging and final tables for t.
	// Columns are added for new fields; columns of removed fields stay;
	// nothing is ever dropped or narrowed.
	EnsureTable(ctx context.Context, t Table) error
	// Stage opens a writer that lands a batch's records in t's staging table
	// through the engine's bulk path. Rows become visible to Consolidate once
	// the writer is closed without error.
	Stage(ctx context.Context, t Table, b Batch) (Stager, error)
	// Consolidate merges one closed batch into t's final table and stores the
	// cursor, in one transaction: dedupe by Id (the latest cursor value wins,
	// then the latest row), upsert, apply deletes per mode, mark the batch
	// consolidated. Consolidating a batch again changes nothing and reports
	// Replayed.
	Consolidate(ctx context.Context, t Table, c Consolidation) (ConsolidateResult, error)
	// CleanStaging deletes staged rows of the object that no later call can
	// use: batches never consolidated (an interrupted run), and consolidated
	// batches older than keep. keep = 0 deletes every consolidated batch.
	CleanStaging(ctx context.Context, object string, keep time.Duration) error
	// Cursor returns an object's stored cursor alone; the zero Cursor when
	// it was never replicated. Runs read it instead of State, which also
	// counts the final table's rows.
	Cursor(ctx context.Context, object string) (Cursor, error)
	// State returns an object's control state; the zero Cursor when it was
	// never replicated.
	State(ctx context.Context, object string) (ObjectState, error)
	// States returns every object's state, by name.
	States(ctx context.Context) ([]ObjectState, error)
	// SaveRun inserts or updates a run record.
	SaveRun(ctx context.Context, r Run) error
	// Close releases the database.
	Close() error
}

// Stager writes one batch into a staging table.
type Stager interface {
	// Write appends records (in Table.Fields order). It may buffer.
	Write(ctx context.Context, records []Record) error
	// Close flushes and makes the batch's rows durable.
	Close(ctx context.Context) error
	// Abort discards what was written; safe after Close.
	Abort()
}
