// Package replicate runs objects: for each one it describes the object,
// evolves its tables, extracts the window since its cursor from the Source,
// stages the records in the Warehouse and consolidates them there together
// with the new cursor. It knows the two seams only (sfsync.Source,
// sfsync.Warehouse); the CLI and the service drive it.
package replicate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/sfsync/sfsync"
)

// ObjectSpec is one object to replicate, with its options.
type ObjectSpec struct {
	Name            string            // API name, as describe global spells it
	Include         []string          // fields to keep (empty: all)
	Exclude         []string          // fields to drop
	Filter          string            // extra SOQL condition
	DeleteMode      sfsync.DeleteMode // soft (default) or hard
	FullRefreshOnly bool              // never incremental
}

// Options configure a Replicator. Source and Warehouse are required.
type Options struct {
	Source    sfsync.Source
	Warehouse sfsync.Warehouse
	Logger    *slog.Logger // nil: discard
	// Lookback re-reads this much before the cursor each run so that late
	// commits (records whose timestamp lies before the cursor but which
	// became visible after it was taken) are caught.
	Lookback time.Duration
	// BatchRows is how many records are staged before a consolidation
	// checkpoint (default 100,000). Full refreshes are one batch.
	BatchRows int
	// PageSize is the page size asked of the source (0: its default).
	PageSize int
	// Parallelism is how many objects run at once (default 2).
	Parallelism int
	// StagingRetention keeps consolidated staging rows this long.
	StagingRetention time.Duration
	// Progress observes runs; nil for none.
	Progress Progress
	// Now is the local clock, for run timestamps (default time.Now).
	Now func() time.Time
	// MaxSplits bounds how many times one window is halved after
	// QUERY_TIMEOUT (default 8), and MaxRestarts how many times it is
	// restarted after INVALID_QUERY_LOCATOR (default 3).
	MaxSplits, MaxRestarts int
}

// Progress observes object runs. Implementations must be safe for
// concurrent use: objects run in parallel.
type Progress interface {
	// Start is called when extraction begins; total is the COUNT() estimate
	// (-1 when unknown).
	Start(object string, total int64)
	// Add reports n more records extracted.
	Add(object string, n int)
	// Done is called once per object with its finished run.
	Done(run sfsync.Run)
}

// Replicator runs objects. It is safe for concurrent use.
type Replicator struct {
	opts Options
	log  *slog.Logger
}

// New checks opts and returns a Replicator.
func New(opts Options) (*Replicator, error) {
	if opts.Source == nil || opts.Warehouse == nil {
		return nil, errors.New("replicate: a Source and a Warehouse are required")
	}
	if opts.Lookback < 0 {
		return nil, fmt.Errorf("replicate: lookback %v is negative", opts.Lookback)
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = 100_000
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxSplits <= 0 {
		opts.MaxSplits = 8
	}
	if opts.MaxRestarts <= 0 {
		opts.MaxRestarts = 3
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Replicator{opts: opts, log: log}, nil
}

// Run replicates the objects, at most Parallelism at once, and returns one
// finished Run per object in the order given. full forces a full refresh of
// every object. The warehouse's run lock must already be held by the caller.
func (r *Replicator) Run(ctx context.Context, specs []ObjectSpec, full bool) []sfsync.Run {
	runs := make([]sfsync.Run, len(specs))
	sem := make(chan struct{}, r.opts.Parallelism)
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				runs[i] = r.RunObject(ctx, spec, full)
			case <-ctx.Done():
				runs[i] = r.notStarted(spec, ctx.Err())
			}
		}()
	}
	wg.Wait()
	return runs
}

func (r *Replicator) notStarted(spec ObjectSpec, err error) sfsync.Run {
	now := r.opts.Now().UTC()
	run := sfsync.Run{ID: newID(now), Object: spec.Name, StartedAt: now, FinishedAt: now,
		Status: sfsync.RunFailed, Error: fmt.Sprintf("not started: %v", err)}
	if r.opts.Progress != nil {
		r.opts.Progress.Done(run)
	}
	return run
}

// usageMeter is a Source that counts the API calls and Bulk query jobs
// made under one context apart from those of other contexts
// (salesforce.Client does).
type usageMeter interface {
	MeterUsage(ctx context.Context) (context.Context, func() (calls, jobs int64))
}

// meterUsage returns the context to run one object under and a function
// reporting the API calls and Bulk jobs made for it so far. A source that
// cannot count per context is measured by the growth of its totals, which
// then include the calls of objects running at the same time.
func (r *Replicator) meterUsage(ctx context.Context) (context.Context, func() (calls, jobs int64)) {
	src := r.opts.Source
	if m, ok := src.(usageMeter); ok {
		return m.MeterUsage(ctx)
	}
	jobs, _ := src.(interface{ BulkJobs() int64 })
	var jobsBefore int64
	if jobs != nil {
		jobsBefore = jobs.BulkJobs()
	}
	callsBefore := src.Usage().Calls
	return ctx, func() (int64, int64) {
		var n int64
		if jobs != nil {
			n = jobs.BulkJobs() - jobsBefore
		}
		return src.Usage().Calls - callsBefore, n
	}
}

// RunObject replicates one object and returns its finished run, which is
// also recorded in the warehouse's control tables. It never panics on
// source or warehouse errors: they end the run partial or failed, with the
// reason.
func (r *Replicator) RunObject(ctx context.Context, spec ObjectSpec, full bool) sfsync.Run {
	o := &objectRun{r: r, spec: spec, full: full || spec.FullRefreshOnly}
	o.run = sfsync.Run{ID: newID(r.opts.Now()), Object: spec.Name, Full: o.full,
		StartedAt: r.opts.Now().UTC(), Status: sfsync.RunRunning}
	o.log = r.log.With("object", spec.Name, "run_id", o.run.ID)
	runCtx, usage := r.meterUsage(ctx)
	err := o.execute(runCtx)
	o.run.APICalls, o.run.BulkJobs = usage()
	if o.run.BulkJobs > 0 {
		o.log.Info("bulk jobs", "jobs", o.run.BulkJobs, "api_calls", o.run.APICalls)
	}
	o.finish(err)
	// Record the outcome even when ctx is cancelled: the run record is how
	// users learn what happened.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := r.opts.Warehouse.SaveRun(saveCtx, o.run); err != nil {
		o.log.Error("record run", "err", err)
	}
	if r.opts.Progress != nil {
		r.opts.Progress.Done(o.run)
	}
	return o.run
}

func newID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

// SortRuns orders runs by object name, for stable output.
func SortRuns(runs []sfsync.Run) {
	sort.Slice(runs, func(i, j int) bool { return runs[i].Object < runs[j].Object })
}
