package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/replicate"
)

// errLeaseLost ends a run whose lease another server took over.
var errLeaseLost = errors.New("the object's lease was lost (another server took it over)")

// runOne runs one object from start to finish: the engine's run, with its
// phases followed and persisted, then cleanup, then the outcome.
func (r *Runner) runOne(ctx context.Context, sess *Session, o *object, full bool) {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	log := r.log.With("object", o.name)

	heartbeat := make(chan struct{})
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		r.heartbeat(runCtx, sess, o, heartbeat, cancel)
	}()

	tr := &tracker{budget: r.budget}
	tr.phase = func(ph State) {
		r.event(runCtx, sess, o, Event{Kind: EventPhase, At: r.opts.Now(), Phase: ph})
	}
	run := r.replicate(runCtx, sess, o, tr, full)
	close(heartbeat)
	<-hbDone

	if ctx.Err() != nil || errors.Is(context.Cause(runCtx), errLeaseLost) {
		// Shutting down, or another server owns the object now: the run
		// stopped at a safe point; the next one resumes from its cursor.
		why := "sfsync is stopping"
		if ctx.Err() == nil {
			why = errLeaseLost.Error()
		}
		log.Warn("run interrupted", "run_id", run.ID, "reason", why)
		if run.Status != sfsync.RunComplete {
			// Say why in the run's record rather than "context canceled".
			msg := "interrupted: " + why + "; the next run resumes from the last committed batch"
			if run.Status == sfsync.RunPartial {
				run.Reason = msg
			} else {
				run.Error = msg
			}
			saveCtx, cancelSave := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := sess.Warehouse.SaveRun(saveCtx, run); err != nil {
				log.Warn("record run", "run_id", run.ID, "err", err)
			}
			cancelSave()
		}
		r.event(ctx, sess, o, Event{Kind: EventInterrupt, At: r.opts.Now()})
		r.finishRun(ctx, sess, o, run, false)
		return
	}

	r.event(ctx, sess, o, Event{Kind: EventPhase, At: r.opts.Now(), Phase: StateCleaningUp})
	stop := tr.budgetStop()
	if stop != nil && run.Status == sfsync.RunPartial {
		// The engine words it as an API limit; say which budget stopped it.
		run.Reason = stop.Error()
		if err := sess.Warehouse.SaveRun(ctx, run); err != nil {
			log.Warn("record run", "run_id", run.ID, "err", err)
		}
	}
	r.cleanup(ctx, sess, o)
	if st, err := sess.Warehouse.State(ctx, o.name); err != nil {
		log.Warn("read object state", "err", err)
	} else {
		r.mu.Lock()
		o.cursor, o.rows, o.lastSuccess = st.Cursor, st.Rows, st.LastSuccess
		r.mu.Unlock()
	}

	now := r.opts.Now()
	next := o.sched.Next(now)
	if stop != nil || tr.limited.Load() {
		// Stopped by the API allowance: look again once the budget may
		// allow it, rather than a whole schedule period later.
		if soon := now.Add(r.opts.BudgetInterval); soon.Before(next) {
			next = soon
		}
	}
	r.event(ctx, sess, o, Event{Kind: EventFinish, At: now, Run: run, Retryable: !tr.permanent.Load(), NextRun: next})
	r.finishRun(ctx, sess, o, run, stop != nil)
}

// replicate runs the engine on the object, turning a panic into a failed
// run so that one object's failure never stops the others.
func (r *Runner) replicate(ctx context.Context, sess *Session, o *object, tr *tracker, full bool) (run sfsync.Run) {
	started := r.opts.Now().UTC()
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("run panicked", "object", o.name, "panic", fmt.Sprint(p))
			run = sfsync.Run{ID: newRunID(started), Object: o.name, Full: full, StartedAt: started,
				FinishedAt: r.opts.Now().UTC(), Status: sfsync.RunFailed, Error: fmt.Sprintf("internal error: %v", p)}
			_ = sess.Warehouse.SaveRun(context.WithoutCancel(ctx), run)
		}
	}()
	opts := r.opts.Replicate
	opts.Source = &trackedSource{Source: r.opts.Source, t: tr}
	opts.Warehouse = &trackedWarehouse{Warehouse: sess.Warehouse, t: tr}
	opts.Progress = progress{estimate: &o.estimate, extracted: &o.extracted}
	opts.Logger = r.log
	opts.Parallelism = 1
	rep, err := replicate.New(opts)
	if err != nil {
		return sfsync.Run{ID: newRunID(started), Object: o.name, Full: full, StartedAt: started,
			FinishedAt: r.opts.Now().UTC(), Status: sfsync.RunFailed, Error: err.Error()}
	}
	return rep.RunObject(ctx, o.spec, full)
}

// heartbeat renews the object's lease every third of its time to live
// until stop closes; when the lease is lost it cancels the run.
func (r *Runner) heartbeat(ctx context.Context, sess *Session, o *object, stop <-chan struct{}, cancel context.CancelCauseFunc) {
	t := time.NewTicker(r.opts.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := sess.Store.RenewLease(ctx, o.name, r.opts.Owner, r.opts.LeaseTTL)
		switch {
		case err != nil:
			// A missed renewal is survivable: the lease lasts three periods.
			r.log.Warn("renew the object's lease", "object", o.name, "err", err)
		case !ok:
			r.log.Error("lost the object's lease; stopping its run", "object", o.name)
			cancel(errLeaseLost)
			return
		}
	}
}

// cleanup removes what the run consumed: staging rows of consolidated
// batches (beyond the staging retention) and run records older than the
// run retention. Failures are logged; the next run cleans again.
func (r *Runner) cleanup(ctx context.Context, sess *Session, o *object) {
	if err := sess.Warehouse.CleanStaging(ctx, o.name, r.opts.Replicate.StagingRetention); err != nil {
		r.log.Warn("clean staging", "object", o.name, "err", err)
	}
	cutoff := r.opts.Now().Add(-r.opts.RunRetention)
	if n, err := sess.Store.PruneRuns(ctx, cutoff); err != nil {
		r.log.Warn("prune run records", "err", err)
	} else if n > 0 {
		r.log.Info("pruned old run records", "runs", n, "before", cutoff.UTC())
	}
}

// finishRun releases the lease and records the run in memory.
func (r *Runner) finishRun(ctx context.Context, sess *Session, o *object, run sfsync.Run, held bool) {
	r.release(ctx, sess, o)
	r.mu.Lock()
	o.running = false
	o.held = held
	r.active--
	if !run.CursorAfter.IsZero() && run.CursorAfter.After(o.cursor.Time) {
		o.cursor.Time = run.CursorAfter
	}
	r.recordLocked(o, run, true)
	r.mu.Unlock()
	r.log.Info("run finished", "object", o.name, "run_id", run.ID, "status", string(run.Status),
		"rows", run.RowsExtracted, "upserted", run.RowsUpserted, "deleted", run.RowsDeleted,
		"duration", run.FinishedAt.Sub(run.StartedAt).Round(time.Millisecond))
	r.poke()
}

// recordLocked adds a run to the object's history and the metrics. r.mu
// is held.
func (r *Runner) recordLocked(o *object, run sfsync.Run, ran bool) {
	o.history = append(o.history, run)
	if over := len(o.history) - r.opts.History; over > 0 {
		o.history = append(o.history[:0], o.history[over:]...)
	}
	r.metrics.record(o.name, run, ran)
}
