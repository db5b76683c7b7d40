// Package orchestrator runs sfsync as a service: every configured object
// goes through a state machine (pending, describing, extracting, loading,
// consolidating, cleaning up, done; or retrying and failed) persisted in the
// warehouse's control schema, on a schedule per object, with retries and
// backoff, bounded parallelism, one lease per object, an API budget, and a
// clean stop on shutdown.
//
// Transition is the state machine, a pure function; the Runner performs
// the actions: it starts due objects through the replicate engine, follows
// each run's phases through the seams the engine calls, and persists every
// change of state so that a restart resumes where the last one stopped.
package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/replicate"
)

// Object is one object the service replicates, with its schedule.
type Object struct {
	Spec     replicate.ObjectSpec
	Schedule Schedule // nil: every 15 minutes
}

// Options configure a Runner. Source, Open and Objects are required.
type Options struct {
	// Source is where records come from; it is shared by every run.
	Source sfsync.Source
	// Open opens the warehouse for a stretch of runs.
	Open Opener
	// Objects are the objects to replicate.
	Objects []Object
	// Replicate holds the engine's settings (lookback, batch rows, page
	// size, staging retention, ...); its Source, Warehouse, Progress,
	// Logger and Now are set by the runner.
	Replicate replicate.Options
	// Parallelism is how many objects run at once (default 2).
	Parallelism int
	// Retry is the retry policy for failed runs (zero: DefaultRetryPolicy).
	Retry RetryPolicy
	// BudgetShare is the share of the org's daily API allowance above which
	// no work starts and running objects stop (default 0.8).
	BudgetShare float64
	// Limits reads the org's API usage (GET /limits); nil judges from the
	// source's latest response headers only.
	Limits func(context.Context) (sfsync.APIUsage, error)
	// BudgetInterval is how often the org's usage is read while the budget
	// holds objects back, and how soon a held-back object is looked at
	// again (default 1m).
	BudgetInterval time.Duration
	// RunRetention is how long run records are kept (default 30 days).
	RunRetention time.Duration
	// History is how many runs per object the runner keeps in memory for
	// its views (default 100).
	History int
	// LeaseTTL is how long an object's lease lasts unless renewed (default
	// 2m); the runner renews it every third of that while the object runs.
	LeaseTTL time.Duration
	// Owner names this server in leases (default host:pid:random).
	Owner string
	// Poll is how often the runner looks at the clock (default 1s).
	Poll time.Duration
	// Now is the clock schedules and statuses follow (default time.Now).
	Now func() time.Time
	// Logger receives the runner's logs; nil discards them.
	Logger *slog.Logger
}

// Errors of Trigger.
var (
	// ErrUnknownObject: the object is not configured.
	ErrUnknownObject = errors.New("object is not configured")
)

// Runner runs objects on their schedules until its context ends. Its
// methods are safe for concurrent use.
type Runner struct {
	opts    Options
	log     *slog.Logger
	budget  *Budget
	objects []*object // in configuration order
	byName  map[string]*object
	wake    chan struct{}
	started time.Time
	wg      sync.WaitGroup // run goroutines

	mu         sync.Mutex // guards everything below and the objects' mutable fields
	sess       *Session
	active     int
	ready      bool
	whProblem  string       // why the warehouse could not be opened, "" when fine
	queuedRuns []sfsync.Run // run records waiting for a session
	metrics    metrics
}

// object is one configured object and what the runner knows of it.
type object struct {
	name  string
	spec  replicate.ObjectSpec
	sched Schedule

	saveMu sync.Mutex // serialises SaveStatus of this object

	// Guarded by Runner.mu.
	status      Status
	dirty       bool // changed since last persisted
	running     bool
	held        bool      // held back by the API budget since the latest skip record
	leaseWait   time.Time // another server holds the lease: look again then
	cursor      sfsync.Cursor
	rows        int64
	lastSuccess time.Time
	history     []sfsync.Run // oldest first
	estimate    atomic.Int64
	extracted   atomic.Int64
	runStarted  time.Time
}

// New checks opts and returns a Runner.
func New(opts Options) (*Runner, error) {
	if opts.Source == nil || opts.Open == nil {
		return nil, errors.New("orchestrator: a Source and an Opener are required")
	}
	if len(opts.Objects) == 0 {
		return nil, errors.New("orchestrator: no objects to replicate")
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 2
	}
	if opts.Retry == (RetryPolicy{}) {
		opts.Retry = DefaultRetryPolicy()
	}
	if opts.BudgetShare == 0 {
		opts.BudgetShare = DefaultBudgetShare
	}
	if opts.BudgetInterval <= 0 {
		opts.BudgetInterval = time.Minute
	}
	if opts.RunRetention <= 0 {
		opts.RunRetention = 30 * 24 * time.Hour
	}
	if opts.History <= 0 {
		opts.History = 100
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 2 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Owner == "" {
		opts.Owner = DefaultOwner()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	budget, err := NewBudget(opts.BudgetShare, opts.Source.Usage, opts.Limits, opts.BudgetInterval, opts.Now)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	r := &Runner{opts: opts, log: log, budget: budget, byName: map[string]*object{}, wake: make(chan struct{}, 1)}
	for _, o := range opts.Objects {
		key := strings.ToLower(o.Spec.Name)
		if o.Spec.Name == "" {
			return nil, errors.New("orchestrator: an object has no name")
		}
		if _, dup := r.byName[key]; dup {
			return nil, fmt.Errorf("orchestrator: object %s is listed twice", o.Spec.Name)
		}
		sched := o.Schedule
		if sched == nil {
			sched = Every(DefaultSchedule)
		}
		obj := &object{name: o.Spec.Name, spec: o.Spec, sched: sched,
			status: Status{Object: o.Spec.Name, State: StatePending}}
		obj.estimate.Store(-1)
		r.objects = append(r.objects, obj)
		r.byName[key] = obj
	}
	r.metrics.init(r.objects)
	return r, nil
}

// DefaultOwner names this process in leases: host:pid:random.
func DefaultOwner() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Owner is the name this runner holds leases under.
func (r *Runner) Owner() string { return r.opts.Owner }

// Run loads the persisted statuses, resumes objects a previous process left
// mid-run, and runs objects as they fall due until ctx ends. Then it stops
// starting runs, cancels the running ones (each abandons its current step
// safely: a consolidation either commits whole or not at all), records
// them as interrupted so the next start resumes them, closes the warehouse
// and returns nil. It returns an error only when ctx ends before the
// statuses could be loaded. Call it once.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	r.started = r.opts.Now()
	r.mu.Unlock()
	if err := r.load(ctx); err != nil {
		return err
	}
	defer r.shutdown()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wakeAt := r.tick(ctx)
		wait := r.opts.Poll
		if !wakeAt.IsZero() {
			if d := wakeAt.Sub(r.opts.Now()); d < wait {
				wait = max(d, 10*time.Millisecond)
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// poke wakes the loop.
func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// load opens the warehouse once, reads what the control tables hold and
// reconciles it with the configuration, retrying while the warehouse is
// busy.
func (r *Runner) load(ctx context.Context) error {
	for {
		sess, err := r.session(ctx)
		if err == nil {
			if err = r.loadFrom(ctx, sess); err == nil {
				r.mu.Lock()
				r.ready = true
				r.mu.Unlock()
				r.log.Info("service ready", "objects", len(r.objects), "owner", r.opts.Owner)
				return nil
			}
			r.log.Error("read control tables", "err", err)
			r.closeSession()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("load service state: %w", ctx.Err())
		case <-time.After(r.opts.Poll):
		}
	}
}

func (r *Runner) loadFrom(ctx context.Context, sess *Session) error {
	saved, err := sess.Store.LoadStatuses(ctx)
	if err != nil {
		return err
	}
	states, err := sess.Warehouse.States(ctx)
	if err != nil {
		return err
	}
	leases, err := sess.Store.Leases(ctx)
	if err != nil {
		return err
	}
	histories := map[*object][]sfsync.Run{}
	for _, o := range r.objects {
		runs, err := sess.Store.Runs(ctx, o.name, r.opts.History)
		if err != nil {
			return err
		}
		histories[o] = runs
	}
	now := r.opts.Now()
	elsewhere := map[string]bool{} // objects another live server is running
	for _, l := range leases {
		if l.Owner != r.opts.Owner && l.ExpiresAt.After(now) {
			elsewhere[strings.ToLower(l.Object)] = true
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range saved {
		o := r.byName[strings.ToLower(s.Object)]
		if o == nil {
			continue // no longer configured
		}
		s.Object = o.name
		if !s.State.Valid() {
			r.log.Warn("unknown state in the control tables; starting over", "object", o.name, "state", string(s.State))
			s.State = StatePending
		}
		o.status = s
		switch {
		case s.State.Active() && elsewhere[strings.ToLower(o.name)]:
			// Another server sharing the warehouse is running it: its
			// status stays as that server wrote it. This server treats
			// the object as due, and takes its persisted status over once
			// it gets the lease (see start).
			r.log.Info("another server is running the object", "object", o.name, "phase", string(s.State))
			o.status, _ = Transition(o.status, Event{Kind: EventInterrupt, At: s.UpdatedAt}, r.opts.Retry)
		case s.State.Active():
			// The previous process stopped mid-run (killed, or the machine
			// went down). The cursor is only ever committed with its
			// batch, so the next run resumes from the last committed one.
			r.log.Warn("resuming an interrupted run", "object", o.name, "phase", string(s.State))
			o.status, _ = Transition(o.status, Event{Kind: EventInterrupt, At: now}, r.opts.Retry)
			o.dirty = true
		}
		// A schedule shortened in the configuration takes effect now.
		if at, ok := DueAt(o.status); ok && o.status.State != StateRetrying {
			if next := o.sched.Next(now); at.After(next) {
				o.status.NextRun = next
				o.dirty = true
			}
		}
	}
	for _, o := range r.objects {
		if o.status.UpdatedAt.IsZero() && !o.dirty {
			o.status.UpdatedAt = now
			o.dirty = true // first start: due at once
		}
		runs := histories[o]
		for i := len(runs) - 1; i >= 0; i-- {
			o.history = append(o.history, runs[i])
		}
	}
	for _, st := range states {
		if o := r.byName[strings.ToLower(st.Object)]; o != nil {
			o.cursor, o.rows, o.lastSuccess = st.Cursor, st.Rows, st.LastSuccess
		}
	}
	r.flushLocked(ctx, sess)
	return nil
}

// tick starts the objects that are due, as far as parallelism, the API
// budget, leases and the warehouse allow, and closes the warehouse when
// nothing runs. It returns when an object next falls due.
func (r *Runner) tick(ctx context.Context) time.Time {
	now := r.opts.Now()
	r.mu.Lock()
	var statuses []Status
	for _, o := range r.objects {
		if o.running {
			continue
		}
		s := o.status
		if now.Before(o.leaseWait) {
			s.NextRun, s.NextAttempt = o.leaseWait, o.leaseWait
		}
		statuses = append(statuses, s)
	}
	free := r.opts.Parallelism - r.active
	r.mu.Unlock()
	due, wake := Plan(statuses, now)
	if len(due) == 0 || free <= 0 {
		r.closeIfIdle(ctx)
		return wake
	}
	if err := r.budget.Check(ctx); err != nil {
		var be *BudgetError
		if errors.As(err, &be) {
			for _, name := range due {
				r.skip(r.byName[strings.ToLower(name)], be)
			}
			r.closeIfIdle(ctx)
			return now.Add(r.opts.BudgetInterval)
		}
	}
	sess, err := r.session(ctx)
	if err != nil {
		return wake
	}
	r.mu.Lock()
	r.flushLocked(ctx, sess)
	r.mu.Unlock()
	for _, name := range due {
		if free == 0 {
			break
		}
		if r.start(ctx, sess, r.byName[strings.ToLower(name)]) {
			free--
		}
	}
	r.closeIfIdle(ctx)
	return wake
}

// session returns the open session, opening one if needed.
func (r *Runner) session(ctx context.Context) (*Session, error) {
	r.mu.Lock()
	if r.sess != nil {
		defer r.mu.Unlock()
		return r.sess, nil
	}
	r.mu.Unlock()
	sess, err := r.opts.Open(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		problem := err.Error()
		if problem != r.whProblem {
			if errors.Is(err, sfsync.ErrBusy) {
				r.log.Warn("the warehouse is in use by another process; trying again", "err", err)
			} else {
				r.log.Error("open the warehouse", "err", err)
			}
		}
		r.whProblem = problem
		return nil, err
	}
	if r.whProblem != "" {
		r.log.Info("the warehouse is open again")
	}
	r.whProblem = ""
	r.sess = sess
	r.log.Debug("opened the warehouse")
	return sess, nil
}

// closeIfIdle closes the session when no run is active, after persisting
// what is pending, so that users can open the warehouse in between.
func (r *Runner) closeIfIdle(ctx context.Context) {
	r.mu.Lock()
	if r.sess == nil || r.active > 0 {
		r.mu.Unlock()
		return
	}
	r.flushLocked(ctx, r.sess)
	r.mu.Unlock()
	r.closeSession()
}

// closeSession closes the session; the warehouse counts as open until
// Close has returned, so that whoever waits for it to close can then open
// it.
func (r *Runner) closeSession() {
	r.mu.Lock()
	sess := r.sess
	r.mu.Unlock()
	if sess == nil {
		return
	}
	err := sess.Close()
	r.mu.Lock()
	r.sess = nil
	r.mu.Unlock()
	if err != nil {
		r.log.Warn("close the warehouse", "err", err)
		return
	}
	r.log.Debug("closed the warehouse")
}

// flushLocked persists changed statuses and queued run records. r.mu is
// held; failures stay queued for the next session.
func (r *Runner) flushLocked(ctx context.Context, sess *Session) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, o := range r.objects {
		if !o.dirty || o.running {
			continue
		}
		if err := sess.Store.SaveStatus(ctx, o.status); err != nil {
			r.log.Warn("save object status", "object", o.name, "err", err)
			continue
		}
		o.dirty = false
	}
	kept := r.queuedRuns[:0]
	for _, run := range r.queuedRuns {
		if err := sess.Warehouse.SaveRun(ctx, run); err != nil {
			r.log.Warn("record run", "object", run.Object, "run_id", run.ID, "err", err)
			kept = append(kept, run)
		}
	}
	r.queuedRuns = kept
}

// skip holds a due object back because of the API budget: the object is
// reported partial with the budget's reason (one run record per stretch of
// holding back) and looked at again after the budget interval.
func (r *Runner) skip(o *object, be *BudgetError) {
	now := r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	next, err := Transition(o.status, Event{Kind: EventSkip, At: now, Reason: be.Error(), NextRun: now.Add(r.opts.BudgetInterval)}, r.opts.Retry)
	if err != nil {
		r.log.Debug("skip", "object", o.name, "err", err)
		return
	}
	o.status, o.dirty = next, true
	if o.held {
		return
	}
	o.held = true
	r.log.Warn("API budget used up; not starting", "object", o.name, "reason", be.Error())
	run := sfsync.Run{ID: newRunID(now), Object: o.name, Full: o.status.Full || o.spec.FullRefreshOnly,
		StartedAt: now.UTC(), FinishedAt: now.UTC(), Status: sfsync.RunPartial,
		Reason: "not started: " + be.Error(), CursorBefore: o.cursor.Time, CursorAfter: o.cursor.Time}
	r.queuedRuns = append(r.queuedRuns, run)
	r.recordLocked(o, run, false)
}

func newRunID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

// start takes the object's lease and starts its run; false when another
// server holds the lease or the lease cannot be read.
func (r *Runner) start(ctx context.Context, sess *Session, o *object) bool {
	ok, err := sess.Store.AcquireLease(ctx, o.name, r.opts.Owner, r.opts.LeaseTTL)
	now := r.opts.Now()
	if err != nil || !ok {
		if err != nil {
			r.log.Warn("take the object's lease", "object", o.name, "err", err)
		} else {
			r.log.Info("another server is running the object; waiting for its lease", "object", o.name)
		}
		r.mu.Lock()
		o.leaseWait = now.Add(r.opts.LeaseTTL / 4)
		r.mu.Unlock()
		return false
	}
	if r.adopt(ctx, sess, o, now) {
		r.release(ctx, sess, o)
		return false
	}
	r.mu.Lock()
	next, err := Transition(o.status, Event{Kind: EventStart, At: now}, r.opts.Retry)
	if err != nil {
		r.mu.Unlock()
		r.log.Error("start", "object", o.name, "err", err)
		r.release(ctx, sess, o)
		return false
	}
	o.status, o.dirty = next, true
	o.running, o.held, o.leaseWait = true, false, time.Time{}
	o.runStarted = now
	o.estimate.Store(-1)
	o.extracted.Store(0)
	full := o.status.Full
	r.active++
	r.mu.Unlock()
	r.save(ctx, sess, o)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.runOne(ctx, sess, o, full)
	}()
	return true
}

// adopt reads the object's persisted status once its lease is held. When
// another server sharing the warehouse ran the object since this one last
// changed its status, and the object is not due yet by that newer status,
// adopt takes that status, cursor and row count over and reports true:
// the run is not needed. A status this server changed since (a trigger,
// a retry of its own) is newer and wins.
func (r *Runner) adopt(ctx context.Context, sess *Session, o *object, now time.Time) bool {
	saved, err := sess.Store.LoadStatuses(ctx)
	if err != nil {
		r.log.Warn("read the object's persisted status", "object", o.name, "err", err)
		return false
	}
	r.mu.Lock()
	mine := o.status
	r.mu.Unlock()
	for _, s := range saved {
		if !strings.EqualFold(s.Object, o.name) {
			continue
		}
		if !s.UpdatedAt.After(mine.UpdatedAt) || s.State.Active() || Due(s, now) {
			return false
		}
		st, err := sess.Warehouse.State(ctx, o.name)
		r.mu.Lock()
		s.Object = o.name
		o.status, o.dirty = s, false
		if err == nil {
			o.cursor, o.rows, o.lastSuccess = st.Cursor, st.Rows, st.LastSuccess
			// The other server's run joins the history this server
			// shows; its metrics count this server's runs only.
			if n := len(o.history); st.LastRun != nil && (n == 0 || o.history[n-1].ID != st.LastRun.ID) {
				o.history = append(o.history, *st.LastRun)
			}
		}
		r.mu.Unlock()
		r.log.Info("another server ran the object; taking its status", "object", o.name, "outcome", string(s.Outcome), "next_run", s.NextRun.UTC())
		return true
	}
	return false
}

// save persists the object's current status; concurrent saves of one
// object write in order, the latest last.
func (r *Runner) save(ctx context.Context, sess *Session, o *object) {
	o.saveMu.Lock()
	defer o.saveMu.Unlock()
	r.mu.Lock()
	st := o.status
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := sess.Store.SaveStatus(ctx, st); err != nil {
		r.log.Warn("save object status", "object", o.name, "err", err)
		return
	}
	r.mu.Lock()
	if o.status == st {
		o.dirty = false
	}
	r.mu.Unlock()
}

func (r *Runner) release(ctx context.Context, sess *Session, o *object) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := sess.Store.ReleaseLease(ctx, o.name, r.opts.Owner); err != nil {
		r.log.Warn("release the object's lease", "object", o.name, "err", err)
	}
}

// event applies an event to the object and persists the result; an event
// the state machine refuses is logged and dropped.
func (r *Runner) event(ctx context.Context, sess *Session, o *object, e Event) {
	r.mu.Lock()
	next, err := Transition(o.status, e, r.opts.Retry)
	if err != nil {
		r.mu.Unlock()
		r.log.Debug("state change refused", "object", o.name, "err", err)
		return
	}
	changed := next.State != o.status.State || e.Kind != EventPhase
	if changed {
		o.status, o.dirty = next, true
	}
	r.mu.Unlock()
	if changed {
		r.save(ctx, sess, o)
	}
}

// shutdown waits for the runs, which end once their context is cancelled,
// persists what is left and closes the warehouse.
func (r *Runner) shutdown() {
	r.log.Info("stopping: waiting for running objects to stop safely")
	r.wg.Wait()
	r.mu.Lock()
	if r.sess != nil {
		r.flushLocked(context.Background(), r.sess)
	}
	r.mu.Unlock()
	r.closeSession()
	r.log.Info("stopped")
}
