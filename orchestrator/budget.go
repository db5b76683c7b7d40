package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/sfsync/sfsync"
)

// DefaultBudgetShare is the share of the org's daily API allowance above
// which the service starts no more work: 80%.
const DefaultBudgetShare = 0.8

// BudgetError says the org's API usage is above the service's share of the
// daily allowance. It matches sfsync.ErrAPILimit (errors.Is), so a run it
// stops ends partial, never failed or complete.
type BudgetError struct {
	Used, Max int64
	Share     float64
}

// Error reads "API budget: org usage 850/1000 above 80%".
func (e *BudgetError) Error() string {
	return fmt.Sprintf("API budget: org usage %d/%d above %s", e.Used, e.Max, percent(e.Share))
}

// Is reports whether target is sfsync.ErrAPILimit.
func (e *BudgetError) Is(target error) bool { return target == sfsync.ErrAPILimit }

func percent(share float64) string {
	return strconv.FormatFloat(math.Round(share*1000)/10, 'f', -1, 64) + "%"
}

// Budget keeps the service under a share of the org's daily API allowance.
// It judges from the usage the source saw in its latest response
// (Sforce-Limit-Info) and, at most once per refresh interval, asks the org
// directly (/limits), since a source that is held back sends no requests
// and its latest figure goes stale. It is safe for concurrent use.
type Budget struct {
	share   float64
	usage   func() sfsync.APIUsage
	limits  func(context.Context) (sfsync.APIUsage, error)
	refresh time.Duration
	now     func() time.Time

	mu      sync.Mutex
	checked time.Time // when limits was last asked
}

// NewBudget returns a budget of share (0 < share <= 1) of the allowance.
// usage reports the latest header figure (sfsync.Source.Usage); limits,
// when not nil, asks the org, at most once per refresh.
func NewBudget(share float64, usage func() sfsync.APIUsage, limits func(context.Context) (sfsync.APIUsage, error), refresh time.Duration, now func() time.Time) (*Budget, error) {
	if share <= 0 || share > 1 || math.IsNaN(share) {
		return nil, fmt.Errorf("API budget share %v: want more than 0 and at most 1", share)
	}
	if usage == nil {
		return nil, errors.New("API budget: no usage source")
	}
	if now == nil {
		now = time.Now
	}
	return &Budget{share: share, usage: usage, limits: limits, refresh: refresh, now: now}, nil
}

// Share is the configured share of the allowance.
func (b *Budget) Share() float64 { return b.share }

// Check returns nil when new work may start, or a *BudgetError. When the
// refresh interval has passed it asks the org first; an org that answers
// REQUEST_LIMIT_EXCEEDED is over budget.
func (b *Budget) Check(ctx context.Context) error {
	u := b.usage()
	b.mu.Lock()
	due := b.limits != nil && (b.checked.IsZero() || b.now().Sub(b.checked) >= b.refresh)
	if due {
		b.checked = b.now()
	}
	b.mu.Unlock()
	if due {
		fresh, err := b.limits(ctx)
		switch {
		case err == nil && fresh.Max > 0:
			u.Used, u.Max = fresh.Used, fresh.Max
		case errors.Is(err, sfsync.ErrAPILimit):
			// The allowance is gone, whatever the latest header said.
			return &BudgetError{Used: max(u.Used, u.Max), Max: u.Max, Share: b.share}
		}
	}
	return b.judge(u)
}

// Judge checks the latest figure the source saw, without asking the org.
func (b *Budget) Judge() error { return b.judge(b.usage()) }

func (b *Budget) judge(u sfsync.APIUsage) error {
	if u.Max > 0 && float64(u.Used) > b.share*float64(u.Max) {
		return &BudgetError{Used: u.Used, Max: u.Max, Share: b.share}
	}
	return nil
}
