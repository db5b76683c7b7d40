package duckdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// DuckDB's bundled jemalloc (Linux) reads its options from the
// environment variable DUCKDB_JE_MALLOC_CONF once, when it first
// allocates, which happens while the program starts, before any Go code
// runs. alloc_linux.go sets sfsync's options in a C constructor that runs
// before those of DuckDB's library, unless the environment already sets
// the variable.
//
// jemalloc's defaults suit a server that owns its machine: four arenas per
// core, each keeping the pages it freed for a while (dirty, then muzzy,
// about a second each in DuckDB's build) to reuse them. A replication run
// frees and allocates about a batch's worth every second or two, spread
// over those arenas, so about 100MB of freed pages stayed resident. One
// arena per four cores and freed pages returned after 200 ms (straight to
// the system, without the muzzy stage) brought the peak of a 1M-row
// Account run at a 128MB limit from 333-357 MB to 250-271 MB with no more
// CPU (docs/benchmarks.md).
const allocatorEnv = "DUCKDB_JE_MALLOC_CONF"

// DefaultMemoryPerObject is the memory_limit sfsync sets, in MB, for each
// object replicated at once, when Options leave the limit empty. A run's
// managed memory follows its batches, not its tables: the batch being
// loaded into staging and the rows a consolidation inserts, with blocks
// beyond the limit spilled to disk. Measured with 1M Accounts: 128MB holds
// REST runs (100,000-row batches) of 30 and of all 56 fields, and a Bulk
// run (one batch per job of about 1M records) of 30 fields; a Bulk run of
// all 56 ran out of memory inserting its batch into the final table,
// which needs about 192MB. When the limit is the default, the warehouse
// raises it for such a batch (see withMemory) instead of failing. The process
// uses more than this: DuckDB's code and catalog, the allocator's freed
// pages not yet returned to the system, and the Go heap.
const DefaultMemoryPerObject = 128

// memoryPerObject is DefaultMemoryPerObject; tests lower it to run out of
// memory on small batches.
var memoryPerObject = DefaultMemoryPerObject

// maxRaises is how many times a default limit may double.
const maxRaises = 3

// memory is DuckDB's memory_limit as the warehouse set it.
type memory struct {
	mu     sync.Mutex
	limit  string // as set: "256MB", "75%"
	mb     int    // the default limit in MB; 0 when the user set the limit
	raises int    // times the default was doubled
}

func newMemory(opts Options) memory {
	if opts.MemoryLimit != "" {
		return memory{limit: opts.MemoryLimit}
	}
	mb := memoryPerObject * max(1, opts.Parallelism)
	return memory{limit: fmt.Sprintf("%dMB", mb), mb: mb}
}

// current returns the limit as set now.
func (m *memory) current() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.limit
}

// outOfMemory returns err's DuckDB error when it is DuckDB running out
// of memory.
func outOfMemory(err error) (*duckdb.Error, bool) {
	var de *duckdb.Error
	if errors.As(err, &de) && de.Type == duckdb.ErrorTypeOutOfMemory {
		return de, true
	}
	return nil, false
}

// withMemory runs work, which must be safe to run again after it failed
// (its transaction rolled back), and runs it again as long as it runs out
// of memory under sfsync's default limit and retryWithMore raised the
// limit. A final out-of-memory error says what to change (memoryError).
func (w *Warehouse) withMemory(ctx context.Context, work func() error) error {
	for {
		was := w.mem.current()
		err := work()
		if err == nil || !w.retryWithMore(ctx, err, was) {
			return w.memoryError(err)
		}
	}
}

// retryWithMore reports whether work that failed with err, begun under the
// limit was, may run again: err is DuckDB running out of memory and the
// limit is sfsync's default, which it doubles (up to maxRaises times)
// unless another batch raised it meanwhile. A limit the user set is never
// changed.
func (w *Warehouse) retryWithMore(ctx context.Context, err error, was string) bool {
	de, ok := outOfMemory(err)
	if !ok {
		return false
	}
	m := &w.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mb == 0 {
		return false
	}
	if m.limit != was {
		return true // raised meanwhile: try under the new limit
	}
	if m.raises >= maxRaises {
		return false
	}
	next := fmt.Sprintf("%dMB", 2*m.mb)
	if _, serr := w.db.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("SET GLOBAL memory_limit = '%s'", next)); serr != nil {
		w.log.Warn("raise DuckDB's memory limit", "to", next, "err", serr)
		return false
	}
	w.log.Warn("DuckDB ran out of memory at sfsync's default limit; raised it and retrying (set warehouse.memory_limit to choose the limit)",
		"from", m.limit, "to", next, "err", firstLine(de.Msg))
	m.mb *= 2
	m.raises++
	m.limit = next
	return true
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// purgeRows is the batch size from which the warehouse returns the pages
// a batch's load or consolidation freed to the system right away (see
// purgeAllocator). A Bulk job's batch of about 1M records frees hundreds
// of MB at once: purging after each brought the peak of a 5M-record Bulk
// run from 316-330 MB to 305-308 MB at no cost in CPU. After batches of
// 100,000 (REST) it bought nothing and cost about 1 s of a 1M run.
const purgeRows = 200_000

// purgeLarge purges the allocator after a batch of rows rows, if large.
func purgeLarge(rows int64) {
	if rows >= purgeRows {
		purgeAllocator()
	}
}

// memoryError adds to an error of DuckDB running out of memory what the
// user can do about it in sfsync's configuration.
func (w *Warehouse) memoryError(err error) error {
	if _, ok := outOfMemory(err); ok {
		return fmt.Errorf("%w\n(DuckDB's memory limit is %s: raise warehouse.memory_limit, or lower sync.parallelism or, for REST extraction, sync.batch_rows)", err, w.mem.current())
	}
	return err
}
