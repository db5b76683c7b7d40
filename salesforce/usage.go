package salesforce

import (
	"context"
	"sync/atomic"
)

// usageMeter counts the API calls and Bulk jobs made under one context.
// Meters nest: a call counts in its context's meter and in every meter
// that one was made under.
type usageMeter struct {
	calls, jobs atomic.Int64
	parent      *usageMeter
}

type meterKey struct{}

// MeterUsage returns a context under which the client counts the API
// calls (retries and logins included) and the Bulk API 2.0 query jobs it
// makes, apart from calls made under other contexts, and a function
// reporting those counts so far. Work running concurrently for other
// contexts, other objects say, is not counted. The function is safe to
// call from any goroutine.
func (c *Client) MeterUsage(ctx context.Context) (context.Context, func() (calls, jobs int64)) {
	m := &usageMeter{}
	m.parent, _ = ctx.Value(meterKey{}).(*usageMeter)
	return context.WithValue(ctx, meterKey{}, m), func() (int64, int64) {
		return m.calls.Load(), m.jobs.Load()
	}
}

// countCall counts one API request.
func (c *Client) countCall(ctx context.Context) {
	c.calls.Add(1)
	for m, _ := ctx.Value(meterKey{}).(*usageMeter); m != nil; m = m.parent {
		m.calls.Add(1)
	}
}

// countJob counts one created Bulk query job.
func (c *Client) countJob(ctx context.Context) {
	c.bulkJobs.Add(1)
	for m, _ := ctx.Value(meterKey{}).(*usageMeter); m != nil; m = m.parent {
		m.jobs.Add(1)
	}
}
