package orchestrator

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
)

// ErrNotReady: the service is still reading its state from the warehouse.
var ErrNotReady = errors.New("the service is starting; try again shortly")

// ObjectView is what the service shows about one object.
type ObjectView struct {
	Status
	// Schedule is the object's schedule as written.
	Schedule string
	// DueAt is when the next run starts (zero: as soon as possible); zero
	// while running.
	DueAt time.Time
	// Running: a run is in progress. RunStarted, Extracted and Estimate
	// describe it (Estimate is the source's count, -1 when unknown).
	Running    bool
	RunStarted time.Time
	Extracted  int64
	Estimate   int64
	// Cursor and Rows are the replica's cursor and live row count, as of
	// the latest run.
	Cursor      sfsync.Cursor
	Rows        int64
	LastSuccess time.Time
	// LastRun is the latest finished run (nil before any).
	LastRun *sfsync.Run
}

// Lag is how far the replica is behind now: now minus the cursor, or -1
// when nothing was replicated yet.
func (v ObjectView) Lag(now time.Time) time.Duration {
	if v.Cursor.Time.IsZero() {
		return -1
	}
	return max(now.Sub(v.Cursor.Time), 0)
}

// ServiceView is the service as a whole.
type ServiceView struct {
	Owner     string
	StartedAt time.Time
	// Ready: the persisted state has been read and objects run.
	Ready bool
	// WarehouseOpen: the warehouse is open (runs are active).
	WarehouseOpen bool
	// WarehouseProblem is why the warehouse could not be opened last time,
	// "" when it could.
	WarehouseProblem string
	Usage            sfsync.APIUsage
	BudgetShare      float64
	Active           int
	Parallelism      int
}

// Service describes the service.
func (r *Runner) Service() ServiceView {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ServiceView{
		Owner: r.opts.Owner, StartedAt: r.started, Ready: r.ready,
		WarehouseOpen: r.sess != nil, WarehouseProblem: r.whProblem,
		Usage: r.opts.Source.Usage(), BudgetShare: r.budget.Share(),
		Active: r.active, Parallelism: r.opts.Parallelism,
	}
}

// Objects describes every configured object, in configuration order.
func (r *Runner) Objects() []ObjectView {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ObjectView, 0, len(r.objects))
	for _, o := range r.objects {
		out = append(out, r.viewLocked(o))
	}
	return out
}

// Object describes one object, by case-insensitive name.
func (r *Runner) Object(name string) (ObjectView, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.byName[strings.ToLower(name)]
	if o == nil {
		return ObjectView{}, false
	}
	return r.viewLocked(o), true
}

func (r *Runner) viewLocked(o *object) ObjectView {
	v := ObjectView{Status: o.status, Schedule: o.sched.String(), Running: o.running,
		Cursor: o.cursor, Rows: o.rows, LastSuccess: o.lastSuccess, Estimate: -1}
	if at, ok := DueAt(o.status); ok && !o.running {
		v.DueAt = at
		if o.leaseWait.After(at) {
			v.DueAt = o.leaseWait
		}
	}
	if o.running {
		v.RunStarted = o.runStarted
		v.Extracted = o.extracted.Load()
		v.Estimate = o.estimate.Load()
	}
	if n := len(o.history); n > 0 {
		last := o.history[n-1]
		v.LastRun = &last
	}
	return v
}

// Runs returns the latest runs of object (case-insensitive), or of every
// object when object is "", newest first, at most limit (0: all kept).
func (r *Runner) Runs(object string, limit int) ([]sfsync.Run, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var runs []sfsync.Run
	if object != "" {
		o := r.byName[strings.ToLower(object)]
		if o == nil {
			return nil, fmt.Errorf("%s: %w", object, ErrUnknownObject)
		}
		runs = append(runs, o.history...)
	} else {
		for _, o := range r.objects {
			runs = append(runs, o.history...)
		}
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].StartedAt.After(runs[j].StartedAt) })
	if limit > 0 && len(runs) > limit {
		runs = runs[:limit]
	}
	return runs, nil
}

// Trigger asks for a run of the object (case-insensitive name) now, a full
// refresh when full is set. It fails with ErrUnknownObject, ErrRunning
// while the object runs, or ErrNotReady while the service starts.
func (r *Runner) Trigger(object string, full bool) error {
	r.mu.Lock()
	o := r.byName[strings.ToLower(object)]
	switch {
	case o == nil:
		r.mu.Unlock()
		return fmt.Errorf("%s: %w", object, ErrUnknownObject)
	case !r.ready:
		r.mu.Unlock()
		return ErrNotReady
	}
	next, err := Transition(o.status, Event{Kind: EventTrigger, At: r.opts.Now(), Full: full}, r.opts.Retry)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	o.status, o.dirty = next, true
	o.leaseWait = time.Time{}
	r.mu.Unlock()
	r.log.Info("run requested", "object", o.name, "full", full)
	r.poke()
	return nil
}
