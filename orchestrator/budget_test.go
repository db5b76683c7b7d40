package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
)

func TestBudgetError(t *testing.T) {
	for _, tc := range []struct {
		e    BudgetError
		want string
	}{
		{BudgetError{Used: 850, Max: 1000, Share: 0.8}, "API budget: org usage 850/1000 above 80%"},
		{BudgetError{Used: 96000, Max: 100000, Share: 0.955}, "API budget: org usage 96000/100000 above 95.5%"},
		{BudgetError{Used: 15, Max: 20, Share: 0.7}, "API budget: org usage 15/20 above 70%"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	err := fmt.Errorf("extract Account: %w", &BudgetError{Used: 1, Max: 1, Share: 0.5})
	if !errors.Is(err, sfsync.ErrAPILimit) {
		t.Error("a budget stop does not match sfsync.ErrAPILimit")
	}
}

func TestNewBudgetChecksShare(t *testing.T) {
	usage := func() sfsync.APIUsage { return sfsync.APIUsage{} }
	for _, share := range []float64{0, -0.1, 1.01} {
		if _, err := NewBudget(share, usage, nil, time.Minute, nil); err == nil {
			t.Errorf("NewBudget(%v) accepted the share", share)
		}
	}
	if _, err := NewBudget(1, usage, nil, time.Minute, nil); err != nil {
		t.Errorf("NewBudget(1): %v", err)
	}
}

// TestBudgetCheck follows a budget through a day: the header figure, a
// fresh /limits figure once per refresh, and an org that refuses calls.
func TestBudgetCheck(t *testing.T) {
	clock := t0
	header := sfsync.APIUsage{Used: 500, Max: 1000}
	limits := sfsync.APIUsage{Used: 500, Max: 1000}
	var limitsErr error
	asked := 0
	b, err := NewBudget(0.8, func() sfsync.APIUsage { return header },
		func(context.Context) (sfsync.APIUsage, error) { asked++; return limits, limitsErr },
		time.Minute, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	step := func(what string, wantOver bool, wantAsked int) {
		t.Helper()
		err := b.Check(ctx)
		var be *BudgetError
		if over := errors.As(err, &be); over != wantOver {
			t.Fatalf("%s: Check = %v, want over budget %v", what, err, wantOver)
		}
		if asked != wantAsked {
			t.Fatalf("%s: /limits asked %d times, want %d", what, asked, wantAsked)
		}
	}
	step("first check asks the org", false, 1)
	header.Used = 801
	step("within the refresh interval the header decides", true, 1)
	if err := b.Judge(); err == nil {
		t.Fatal("Judge ignores the header figure")
	}
	clock = clock.Add(time.Minute)
	limits.Used = 300 // the rolling day moved on
	step("after the interval /limits is asked and wins", false, 2)
	header.Used, limits.Used = 800, 800
	clock = clock.Add(time.Minute)
	step("exactly 80% is not above it", false, 3)
	clock = clock.Add(time.Minute)
	limitsErr = fmt.Errorf("read limits: %w", sfsync.ErrAPILimit)
	step("an org refusing calls is over budget", true, 4)
}
