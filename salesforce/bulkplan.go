package salesforce

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/soql"
)

// planRanges splits a window into consecutive cursor ranges of at most
// about JobRecords records. A window within JobRecords, or without a
// cursor field, is one job. Otherwise the window's bounds are closed (an
// open start at its earliest record, found with one query; an open end at
// the server's clock), the boundaries between ceil(total/JobRecords)
// ranges are interpolated from what is known of the cumulative count and
// each is counted; a range over 1.25x JobRecords is split further within
// its own bounds, as far as the count budget goes, and neighbours that fit
// together, or one of which is empty, are merged. Boundaries are whole seconds, as SOQL
// literals are, so ranges never overlap; the first range keeps the
// window's start and the last its end, open or not.
func (c *Client) planRanges(ctx context.Context, w sfsync.Window, total int64) ([]bulkRange, error) {
	whole := []bulkRange{{from: w.From, to: w.To, count: total}}
	limit := c.bulk.JobRecords
	if w.CursorField == "" || total <= limit {
		return whole, nil
	}
	lo, hi := w.From.Truncate(time.Second), w.To
	if lo.IsZero() {
		first, ok, err := c.firstCursor(ctx, w)
		if err != nil {
			return nil, fmt.Errorf("plan bulk jobs for %s: %w", w.Object.Name, err)
		}
		if !ok {
			return whole, nil
		}
		lo = first.Truncate(time.Second)
	}
	if hi.IsZero() {
		now, err := c.Now(ctx)
		if err != nil {
			return nil, fmt.Errorf("plan bulk jobs for %s: %w", w.Object.Name, err)
		}
		hi = now.UTC().Truncate(time.Second).Add(time.Second)
	} else if hi.Truncate(time.Second).Before(hi) {
		hi = hi.Truncate(time.Second).Add(time.Second)
	}
	if !hi.After(lo.Add(time.Second)) {
		return whole, nil
	}
	ax := axis[time.Time]{
		compare: time.Time.Compare,
		guesses: cursorGuesses,
		count: func(ctx context.Context, t time.Time) (int64, error) {
			upTo := w
			upTo.To = t
			return c.Count(ctx, upTo)
		},
	}
	pts, err := splitPoints(ctx, c, ax, lo, hi, total)
	if err != nil {
		return nil, fmt.Errorf("plan bulk jobs for %s: %w", w.Object.Name, err)
	}
	var out []bulkRange
	for _, r := range mergeSpans(pts, limit) {
		out = append(out, bulkRange{from: r.from, to: r.to, count: r.count})
	}
	out[0].from = w.From
	out[len(out)-1].to = w.To
	c.log.Info("bulk extraction split into jobs", "object", w.Object.Name, "jobs", len(out), "records", total)
	return out, nil
}

// cursorGuesses proposes boundaries for a cursor range: first at even
// shares of its count, interpolated; a range still too large after that
// holds records crowded somewhere, most often (cursor values being
// modification times) at its recent end, so from the second round it is
// probed at distances from that end shrinking 16-fold, which finds a
// crowd within 90 days down to minutes in one round, and at the middle of
// its count.
func cursorGuesses(round int, a, b cut[time.Time], parts int64, target func(j int64) int64) []time.Time {
	var out []time.Time
	for j := int64(1); j < parts; j++ {
		if round == 1 {
			out = append(out, interpolate(a, b, target(j)))
			continue
		}
		span := b.at.Sub(a.at)
		for range j {
			span /= 16
		}
		out = append(out, b.at.Add(-span).Truncate(time.Second))
	}
	if round > 1 {
		out = append(out, interpolate(a, b, a.n+(b.n-a.n)/2))
	}
	return out
}

// interpolate returns the whole second between a and b where the
// cumulative count reaches n, assuming records spread evenly between them.
func interpolate(a, b cut[time.Time], n int64) time.Time {
	if b.n <= a.n {
		return a.at.Add(b.at.Sub(a.at) / 2).Truncate(time.Second)
	}
	span := float64(b.at.Sub(a.at))
	frac := float64(n-a.n) / float64(b.n-a.n)
	return a.at.Add(time.Duration(span * frac)).Truncate(time.Second)
}

// firstCursor returns the earliest cursor value of the window's records;
// ok is false when the window holds none.
func (c *Client) firstCursor(ctx context.Context, w sfsync.Window) (t time.Time, ok bool, err error) {
	f, found := w.Object.Field(w.CursorField)
	if !found {
		return time.Time{}, false, fmt.Errorf("cursor field %s is not a field of %s: %w", w.CursorField, w.Object.Name, sfsync.ErrPermanent)
	}
	v, ok, err := c.edgeValue(ctx, w, "first "+w.CursorField, f, soql.Asc, func(b *soql.Builder) {
		if !w.To.IsZero() {
			b.Lt(w.CursorField, soql.DateTimeCeil(w.To))
		}
	})
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	t, ok = v.(time.Time)
	return t, ok, nil
}

// edgeValue returns field f of the window's first record in the order dir
// (one REST query for one record); ok is false when the window holds
// none. bound adds conditions to the window's filter.
func (c *Client) edgeValue(ctx context.Context, w sfsync.Window, what string, f sfsync.Field, dir soql.Dir, bound func(*soql.Builder)) (v any, ok bool, err error) {
	what += " of " + w.Object.Name
	fields := []sfsync.Field{f}
	b := soql.Select(w.Object, fields)
	if bound != nil {
		bound(b)
	}
	if strings.TrimSpace(w.Filter) != "" {
		b.Where(w.Filter)
	}
	statement, err := b.OrderBy(f.Name, dir).Limit(1).Build()
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w: %w", what, err, sfsync.ErrPermanent)
	}
	d := newRecordDecoder(w.Object.Name, fields)
	q := pagedQuery{
		what:      what,
		object:    w.Object.Name,
		statement: statement,
		all:       w.IncludeDeleted,
		pageSize:  MinPageSize,
		decode:    func(b []byte) (*queryPage, error) { return decodePage(b, d) },
	}
	err = c.paginate(ctx, q, func(_ context.Context, p *queryPage) error {
		if !ok && len(p.records) > 0 {
			v, ok = p.records[0][0], true
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return v, ok, nil
}
