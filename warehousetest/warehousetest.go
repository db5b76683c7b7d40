// Package warehousetest is the conformance suite every sfsync.Warehouse
// runs unchanged: first loads, dedupe, updates, stale rows, soft and hard
// deletes, undeletes, merges, full refreshes, idempotent replays, schema
// evolution, hostile values and identifiers, cancellation, the run lock,
// cursors and staging cleanup.
//
// An engine's test calls Run with a function that opens a fresh, empty
// warehouse:
//
//	func TestConformance(t *testing.T) {
//		warehousetest.Run(t, func(t *testing.T) sfsync.Warehouse {
//			w, err := duckdb.Open(t.Context(), duckdb.Options{Path: filepath.Join(t.TempDir(), "w.duckdb")})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return w
//		})
//	}
//
// The suite calls Setup and closes the warehouse. It reads final and
// staging tables back through the Reader interface, which the warehouse
// must implement too; an engine with limits (identifier length, text
// size, text it cannot store exactly) says so by implementing
// IdentifierLimiter, TextLimiter or TextStorer.
package warehousetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

// Reader reads a warehouse's tables back, for tests and checks.
type Reader interface {
	// Rows returns the object's final table, ordered by Id, one map per
	// row keyed by column name (fields and sfsync's own columns). Values
	// have the Go types of sfsync.Record: string, bool, int64,
	// sfsync.Decimal (canonical), float64, time.Time in UTC (dates at
	// midnight, times of day on 1970-01-01), or nil.
	Rows(ctx context.Context, object string) ([]map[string]any, error)
	// StagedRows counts the object's staged rows by batch id.
	StagedRows(ctx context.Context, object string) (map[string]int64, error)
	// DuplicateIDs counts the Ids that appear more than once in the
	// object's final table.
	DuplicateIDs(ctx context.Context, object string) (int64, error)
}

// IdentifierLimiter is implemented by warehouses whose table and column
// names have a length limit: the suite then uses names of exactly that
// many bytes (else 200-byte names). 0 means no limit.
type IdentifierLimiter interface {
	MaxIdentifierLength() int
}

// TextLimiter is implemented by warehouses that cannot store a 1 MB text
// value: the suite stores one of MaxTextBytes bytes instead. 0 means no
// limit.
type TextLimiter interface {
	MaxTextBytes() int
}

// TextStorer is implemented by warehouses that cannot store every text
// exactly (PostgreSQL's TEXT holds no NUL character). StoredText returns
// the text the warehouse stores for s, or false when staging s fails
// instead, with an error naming the table, column and Id. The suite then
// expects exactly that.
type TextStorer interface {
	StoredText(s string) (stored string, ok bool)
}

// limits are what the warehouse under test cannot store.
type limits struct {
	MaxIdentifierLength int
	MaxTextBytes        int
	// storedText maps a text to what the warehouse stores, ok false when
	// it rejects it; nil when it stores every text exactly.
	storedText func(string) (string, bool)
}

// Run runs the suite. open returns a new, empty warehouse for each
// subtest; it must also implement Reader.
func Run(t *testing.T, open func(t *testing.T) sfsync.Warehouse) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, *harness)
	}{
		{"FirstLoad", testFirstLoad},
		{"DedupeWithinBatch", testDedupe},
		{"NoCursorField", testNoCursor},
		{"UpdatesAcrossBatches", testUpdates},
		{"StaleRowDoesNotOverwrite", testStale},
		{"SoftDelete", testSoftDelete},
		{"HardDelete", testHardDelete},
		{"Undelete", testUndelete},
		{"MergeLoserDeleted", testMerge},
		{"FullRefreshSoft", testFullRefreshSoft},
		{"FullRefreshHard", testFullRefreshHard},
		{"ReplayIsIdempotent", testReplay},
		{"AddedColumn", testAddedColumn},
		{"DecimalWidened", testDecimalWidened},
		{"RoundTripEveryKind", testRoundTrip},
		{"HostileIdentifiers", testHostileIdentifiers},
		{"CancelMidConsolidation", testCancel},
		{"Lock", testLock},
		{"CursorNeverMovesBack", testCursor},
		{"CleanStaging", testCleanStaging},
		{"DropStaged", testDropStaged},
		{"AbortDiscards", testAbort},
		{"Runs", testRuns},
		{"ConcurrentObjects", testConcurrentObjects},
		{"BadInput", testBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newHarness(t, open))
		})
	}
}

// harness holds one warehouse and the helpers the tests share.
type harness struct {
	t      *testing.T
	ctx    context.Context
	w      sfsync.Warehouse
	r      Reader
	limits limits
	seq    atomic.Int64
}

func newHarness(t *testing.T, open func(t *testing.T) sfsync.Warehouse) *harness {
	t.Helper()
	w := open(t)
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	r, ok := w.(Reader)
	if !ok {
		t.Fatalf("%T does not implement warehousetest.Reader", w)
	}
	h := &harness{t: t, ctx: t.Context(), w: w, r: r}
	if l, ok := w.(IdentifierLimiter); ok {
		h.limits.MaxIdentifierLength = l.MaxIdentifierLength()
	}
	if l, ok := w.(TextLimiter); ok {
		h.limits.MaxTextBytes = l.MaxTextBytes()
	}
	if s, ok := w.(TextStorer); ok {
		h.limits.storedText = s.StoredText
	}
	for range 2 { // Setup is idempotent
		if err := w.Setup(h.ctx); err != nil {
			t.Fatalf("Setup: %v", err)
		}
	}
	return h
}

// at is n minutes after the time every test's cursor values count from.
func at(n int) time.Time {
	return time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)
}

// accountTable is the object most tests use.
func accountTable() sfsync.Table {
	return sfsync.Table{
		Object: "Account",
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "Name", Type: sfsync.TypeString},
			{Name: "AnnualRevenue", Type: sfsync.TypeCurrency, Precision: 18, Scale: 2},
			{Name: "MasterRecordId", Type: sfsync.TypeReference},
			{Name: "IsDeleted", Type: sfsync.TypeBoolean},
			{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
		},
		CursorField:  "SystemModstamp",
		DeletedField: "IsDeleted",
	}
}

// acct is one version of an Account record.
type acct struct {
	id      string
	name    string
	revenue string // decimal text, "" for null
	master  string // merged into, "" for null
	deleted bool
	mod     int // SystemModstamp: minutes after base
}

func (a acct) rec() sfsync.Record {
	var rev, master any
	if a.revenue != "" {
		rev = sfsync.Decimal(a.revenue)
	}
	if a.master != "" {
		master = a.master
	}
	return sfsync.Record{a.id, a.name, rev, master, a.deleted, at(a.mod)}
}

func recs(as ...acct) []sfsync.Record {
	out := make([]sfsync.Record, len(as))
	for i, a := range as {
		out[i] = a.rec()
	}
	return out
}

// row is the final row expected for a: live, or flagged deleted at
// deletedAt when that is not zero.
func (a acct) row(deletedAt time.Time) map[string]any {
	m := recordRow(accountTable(), a.rec())
	m[sfsync.ColDeleted] = !deletedAt.IsZero()
	m[sfsync.ColDeletedAt] = nil
	if !deletedAt.IsZero() {
		m[sfsync.ColDeletedAt] = deletedAt
	}
	return m
}

// live is the final row of a live record.
func (a acct) live() map[string]any { return a.row(time.Time{}) }

// recordRow maps a record to its final row's field columns.
func recordRow(t sfsync.Table, r sfsync.Record) map[string]any {
	m := map[string]any{}
	for i, f := range t.Fields {
		m[f.Name] = r[i]
	}
	return m
}

func (h *harness) ensure(t sfsync.Table) {
	h.t.Helper()
	if err := h.w.EnsureTable(h.ctx, t); err != nil {
		h.t.Fatalf("EnsureTable %s: %v", t.Object, err)
	}
}

// batch returns a new batch of the object, extracted now.
func (h *harness) batch(object string) sfsync.Batch {
	n := h.seq.Add(1)
	return sfsync.Batch{
		ID:          fmt.Sprintf("run-%d-batch-%d", n, n),
		RunID:       fmt.Sprintf("run-%d", n),
		Object:      object,
		ExtractedAt: time.Now().UTC().Truncate(time.Millisecond),
	}
}

// stage stages records as a new closed batch, in pages of at most two.
func (h *harness) stage(t sfsync.Table, records ...sfsync.Record) sfsync.Batch {
	h.t.Helper()
	b := h.batch(t.Object)
	h.stageBatch(t, b, records...)
	return b
}

func (h *harness) stageBatch(t sfsync.Table, b sfsync.Batch, records ...sfsync.Record) {
	h.t.Helper()
	s, err := h.w.Stage(h.ctx, t, b)
	if err != nil {
		h.t.Fatalf("Stage %s: %v", t.Object, err)
	}
	for i := 0; i < len(records); i += 2 {
		page := records[i:min(i+2, len(records))]
		if err := s.Write(h.ctx, page); err != nil {
			s.Abort()
			h.t.Fatalf("Write %s: %v", t.Object, err)
		}
	}
	if err := s.Close(h.ctx); err != nil {
		h.t.Fatalf("Close stager of %s: %v", t.Object, err)
	}
	s.Abort() // safe after Close
}

// consolidation builds a Consolidation of b with the cursor at cursor
// (zero for none).
func consolidation(t sfsync.Table, b sfsync.Batch, mode sfsync.DeleteMode, full bool, cursor time.Time) sfsync.Consolidation {
	return sfsync.Consolidation{Batch: b, Mode: mode, FullRefresh: full, Cursor: sfsync.Cursor{Field: t.CursorField, Time: cursor}}
}

func (h *harness) consolidate(t sfsync.Table, c sfsync.Consolidation) sfsync.ConsolidateResult {
	h.t.Helper()
	res, err := h.w.Consolidate(h.ctx, t, c)
	if err != nil {
		h.t.Fatalf("Consolidate %s: %v", t.Object, err)
	}
	return res
}

// load stages records as one batch and consolidates it incrementally,
// with the cursor at the latest cursor value among them.
func (h *harness) load(t sfsync.Table, mode sfsync.DeleteMode, records ...sfsync.Record) sfsync.ConsolidateResult {
	h.t.Helper()
	b := h.stage(t, records...)
	return h.consolidate(t, consolidation(t, b, mode, false, maxCursor(t, records)))
}

func maxCursor(t sfsync.Table, records []sfsync.Record) time.Time {
	idx := -1
	for i, f := range t.Fields {
		if f.Name == t.CursorField {
			idx = i
		}
	}
	var m time.Time
	for _, r := range records {
		if idx >= 0 {
			if v, ok := r[idx].(time.Time); ok && v.After(m) {
				m = v
			}
		}
	}
	return m
}

// rows reads the object's final table without _sfsync_synced_at, after
// checking that every row has it and that no Id repeats.
func (h *harness) rows(object string) []map[string]any {
	h.t.Helper()
	rows := h.rawRows(object)
	for _, r := range rows {
		if v, ok := r[sfsync.ColSyncedAt].(time.Time); !ok || v.IsZero() {
			h.t.Errorf("%s row %v: %s is %v, want a time", object, r["Id"], sfsync.ColSyncedAt, r[sfsync.ColSyncedAt])
		}
		delete(r, sfsync.ColSyncedAt)
	}
	return rows
}

func (h *harness) rawRows(object string) []map[string]any {
	h.t.Helper()
	rows, err := h.r.Rows(h.ctx, object)
	if err != nil {
		h.t.Fatalf("Rows %s: %v", object, err)
	}
	dup, err := h.r.DuplicateIDs(h.ctx, object)
	if err != nil {
		h.t.Fatalf("DuplicateIDs %s: %v", object, err)
	}
	if dup != 0 {
		h.t.Errorf("%s: %d duplicate Ids", object, dup)
	}
	return rows
}

// wantRows compares the final table with want (any order; Ids unique).
func (h *harness) wantRows(object string, want ...map[string]any) {
	h.t.Helper()
	got := h.rows(object)
	sortByID(want)
	sortByID(got)
	if want == nil {
		want = []map[string]any{}
	}
	if got == nil {
		got = []map[string]any{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		h.t.Errorf("%s final rows (-want +got):\n%s", object, diff)
	}
}

func sortByID(rows []map[string]any) {
	sort.Slice(rows, func(i, j int) bool {
		return fmt.Sprint(rows[i]["Id"]) < fmt.Sprint(rows[j]["Id"])
	})
}

func (h *harness) state(object string) sfsync.ObjectState {
	h.t.Helper()
	st, err := h.w.State(h.ctx, object)
	if err != nil {
		h.t.Fatalf("State %s: %v", object, err)
	}
	return st
}

func (h *harness) wantResult(what string, got, want sfsync.ConsolidateResult) {
	h.t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		h.t.Errorf("%s: result (-want +got):\n%s", what, diff)
	}
}

// errorContains fails unless err is an error whose text has every part.
func errorContains(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one mentioning %q", what, parts)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not mention %q", what, err, p)
		}
	}
}

// countdown is a context that is cancelled by the n-th call to its Done
// or Err method: a way to cancel an operation at every point where it
// looks at its context, without timing.
type countdown struct {
	context.Context
	left   atomic.Int64
	done   chan struct{}
	closed atomic.Bool
}

func newCountdown(parent context.Context, n int64) *countdown {
	c := &countdown{Context: parent, done: make(chan struct{})}
	c.left.Store(n)
	return c
}

func (c *countdown) tick() {
	if c.left.Add(-1) <= 0 && c.closed.CompareAndSwap(false, true) {
		close(c.done)
	}
}

// Done counts a look and returns the channel closed at the n-th.
func (c *countdown) Done() <-chan struct{} {
	c.tick()
	return c.done
}

// Err counts a look and reports cancellation once it happened.
func (c *countdown) Err() error {
	c.tick()
	if c.closed.Load() {
		return context.Canceled
	}
	return nil
}
