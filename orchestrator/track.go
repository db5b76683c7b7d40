package orchestrator

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/sfsync/sfsync"
)

// tracker watches one run through the seams the engine calls: it reports
// the phase each call starts, stops the run when the API budget is used up,
// and notes errors that retrying cannot help.
type tracker struct {
	phase     func(State)
	budget    *Budget
	permanent atomic.Bool // an error retrying cannot help
	limited   atomic.Bool // the org refused a call: its API allowance is used up

	mu      sync.Mutex
	stopped *BudgetError // the budget stop that ended the run, if any
}

// gate fails with a *BudgetError once the source's latest usage figure is
// above the budget.
func (t *tracker) gate() error {
	if t.budget == nil {
		return nil
	}
	err := t.budget.Judge()
	var be *BudgetError
	if errors.As(err, &be) {
		t.mu.Lock()
		if t.stopped == nil {
			t.stopped = be
		}
		t.mu.Unlock()
	}
	return err
}

// budgetStop returns the budget stop that ended the run, or nil.
func (t *tracker) budgetStop() *BudgetError {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopped
}

func (t *tracker) note(err error) {
	if err == nil {
		return
	}
	if errors.Is(err, sfsync.ErrPermanent) {
		t.permanent.Store(true)
	}
	var be *BudgetError
	if errors.Is(err, sfsync.ErrAPILimit) && !errors.As(err, &be) {
		t.limited.Store(true)
	}
}

// trackedSource is the Source the engine sees during one run.
type trackedSource struct {
	sfsync.Source
	t *tracker
}

// Describe checks the budget, then describes.
func (s *trackedSource) Describe(ctx context.Context, object string) (*sfsync.Object, error) {
	if err := s.t.gate(); err != nil {
		return nil, err
	}
	s.t.phase(StateDescribing)
	obj, err := s.Source.Describe(ctx, object)
	s.t.note(err)
	return obj, err
}

// Count checks the budget, then counts.
func (s *trackedSource) Count(ctx context.Context, w sfsync.Window) (int64, error) {
	if err := s.t.gate(); err != nil {
		return 0, err
	}
	n, err := s.Source.Count(ctx, w)
	s.t.note(err)
	return n, err
}

// Extract checks the budget before the window and after every page.
func (s *trackedSource) Extract(ctx context.Context, w sfsync.Window, fn func(context.Context, *sfsync.Page) error) error {
	if err := s.t.gate(); err != nil {
		return err
	}
	s.t.phase(StateExtracting)
	err := s.Source.Extract(ctx, w, func(ctx context.Context, p *sfsync.Page) error {
		if err := fn(ctx, p); err != nil {
			return err
		}
		// Checked after the page is handed over, so what was paid for is
		// kept.
		return s.t.gate()
	})
	s.t.note(err)
	return err
}

// trackedWarehouse is the Warehouse the engine sees during one run.
type trackedWarehouse struct {
	sfsync.Warehouse
	t *tracker
}

// Stage opens a tracked stager.
func (w *trackedWarehouse) Stage(ctx context.Context, t sfsync.Table, b sfsync.Batch) (sfsync.Stager, error) {
	st, err := w.Warehouse.Stage(ctx, t, b)
	if err != nil {
		return nil, err
	}
	return &trackedStager{Stager: st, t: w.t}, nil
}

// Consolidate reports the consolidating phase, then consolidates.
func (w *trackedWarehouse) Consolidate(ctx context.Context, t sfsync.Table, c sfsync.Consolidation) (sfsync.ConsolidateResult, error) {
	w.t.phase(StateConsolidating)
	return w.Warehouse.Consolidate(ctx, t, c)
}

// trackedStager reports extraction while records arrive and loading while
// the batch is flushed.
type trackedStager struct {
	sfsync.Stager
	t *tracker
}

// Write reports extraction, then writes.
func (s *trackedStager) Write(ctx context.Context, records []sfsync.Record) error {
	s.t.phase(StateExtracting)
	return s.Stager.Write(ctx, records)
}

// Close reports loading, then flushes the batch.
func (s *trackedStager) Close(ctx context.Context) error {
	s.t.phase(StateLoading)
	return s.Stager.Close(ctx)
}

// progress counts a run's records for the status page.
type progress struct {
	estimate, extracted *atomic.Int64
}

// Start records the estimate.
func (p progress) Start(_ string, total int64) { p.estimate.Store(total) }

// Add counts extracted records.
func (p progress) Add(_ string, n int) { p.extracted.Add(int64(n)) }

// Done does nothing: the runner records finished runs itself.
func (p progress) Done(sfsync.Run) {}
