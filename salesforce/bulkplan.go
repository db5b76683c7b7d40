package salesforce

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/soql"
)

// Planning a window's query jobs: consecutive cursor ranges of about
// JobRecords records each, found with few calls. Each call spent here is
// one the extraction could have spent on results, so the plan guesses the
// boundaries by interpolation and counts each boundary once, counting more
// only where a range came out much too large.

// cumPoint is a known point of the window's cumulative count: n records
// have a cursor value before at.
type cumPoint struct {
	at time.Time
	n  int64
}

// planOverflow is how far over JobRecords a range may come out before it
// is split further (1.25x), and planCounts how many COUNT() queries one
// plan may spend per job it plans, plus planCountsBase.
const (
	planOverflowNum, planOverflowDen = 5, 4
	planCounts, planCountsBase       = 2, 4
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
	pts := []cumPoint{{lo, 0}, {hi, total}}
	budget := planCountsBase + planCounts*int((total+limit-1)/limit)
	over := limit * planOverflowNum / planOverflowDen
	for round := 1; budget > 0; round++ {
		// The ranges between known points that hold too many records get
		// boundaries: first at even shares of their count, interpolated;
		// a range still too large after that holds records crowded
		// somewhere, most often (cursor values being modification times)
		// at its recent end, so it is probed at distances from that end
		// shrinking 16-fold, which finds a crowd within 90 days down to
		// minutes in one round.
		var guesses []time.Time
		add := func(a, b cumPoint, t time.Time) {
			if t.After(a.at) && t.Before(b.at) {
				guesses = append(guesses, t)
			}
		}
		for i := 0; i+1 < len(pts); i++ {
			a, b := pts[i], pts[i+1]
			n := b.n - a.n
			if n <= over {
				continue
			}
			parts := (n + limit - 1) / limit
			for j := int64(1); j < parts; j++ {
				if round == 1 {
					add(a, b, interpolate(a, b, a.n+c.pageAligned(n*j/parts, j, n/parts)))
					continue
				}
				span := b.at.Sub(a.at)
				for range j {
					span /= 16
				}
				add(a, b, b.at.Add(-span).Truncate(time.Second))
			}
			if round > 1 {
				add(a, b, interpolate(a, b, a.n+n/2))
			}
		}
		slices.SortFunc(guesses, func(x, y time.Time) int { return x.Compare(y) })
		guesses = slices.CompactFunc(guesses, time.Time.Equal)
		if len(guesses) == 0 {
			break
		}
		for _, t := range guesses {
			if budget == 0 {
				break
			}
			budget--
			upTo := w
			upTo.To = t
			n, err := c.Count(ctx, upTo)
			if err != nil {
				return nil, fmt.Errorf("plan bulk jobs for %s: %w", w.Object.Name, err)
			}
			pts = append(pts, cumPoint{t, n})
		}
		sort.Slice(pts, func(i, j int) bool { return pts[i].at.Before(pts[j].at) })
		// Counts taken at different moments can disagree a little; keep
		// the cumulative count monotonic and within the total.
		for i := 1; i < len(pts); i++ {
			pts[i].n = min(max(pts[i].n, pts[i-1].n), total)
		}
		pts[len(pts)-1].n = max(pts[len(pts)-1].n, total)
	}
	var out []bulkRange
	for i := 0; i+1 < len(pts); i++ {
		r := bulkRange{from: pts[i].at, to: pts[i+1].at, count: pts[i+1].n - pts[i].n}
		if k := len(out) - 1; k >= 0 && (out[k].count+r.count <= limit || r.count == 0 || out[k].count == 0) {
			out[k].to = r.to
			out[k].count += r.count
			continue
		}
		out = append(out, r)
	}
	out[0].from = w.From
	out[len(out)-1].to = w.To
	c.log.Info("bulk extraction split into jobs", "object", w.Object.Name, "jobs", len(out), "records", total)
	return out, nil
}

// pageAligned moves the j-th boundary of a range, share records after its
// start, to just under a whole number of result pages (ResultRecords),
// so that ranges end in full pages instead of each costing a short last
// one. The j-th boundary is placed 2j-1 margins under, a margin being the
// error expected of an interpolated count: each range then stays under a
// page multiple even when its two boundaries err in opposite directions,
// and the last range takes what is left. Ranges of under two pages each
// are left alone.
func (c *Client) pageAligned(share, j, part int64) int64 {
	pageRecs := int64(c.bulk.ResultRecords)
	margin := pageRecs / 32
	if part < 2*pageRecs {
		return share
	}
	aligned := (share+pageRecs/2)/pageRecs*pageRecs - (2*j-1)*margin
	if aligned <= 0 {
		return share
	}
	return aligned
}

// interpolate returns the whole second between a and b where the
// cumulative count reaches n, assuming records spread evenly between them.
func interpolate(a, b cumPoint, n int64) time.Time {
	if b.n <= a.n {
		return a.at.Add(b.at.Sub(a.at) / 2).Truncate(time.Second)
	}
	span := float64(b.at.Sub(a.at))
	frac := float64(n-a.n) / float64(b.n-a.n)
	return a.at.Add(time.Duration(span * frac)).Truncate(time.Second)
}

// firstCursor returns the earliest cursor value of the window's records;
// ok is false when the window holds none. It is one REST query for one
// record, ordered by the cursor field.
func (c *Client) firstCursor(ctx context.Context, w sfsync.Window) (t time.Time, ok bool, err error) {
	f, found := w.Object.Field(w.CursorField)
	if !found {
		return time.Time{}, false, fmt.Errorf("cursor field %s is not a field of %s: %w", w.CursorField, w.Object.Name, sfsync.ErrPermanent)
	}
	fields := []sfsync.Field{f}
	b := soql.Select(w.Object, fields)
	if !w.To.IsZero() {
		b.Lt(w.CursorField, soql.DateTimeCeil(w.To))
	}
	if w.Filter != "" {
		b.Where(w.Filter)
	}
	statement, err := b.OrderBy(w.CursorField, soql.Asc).Limit(1).Build()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("first %s of %s: %w: %w", w.CursorField, w.Object.Name, err, sfsync.ErrPermanent)
	}
	d := newRecordDecoder(w.Object.Name, fields)
	q := pagedQuery{
		what:      "first " + w.CursorField + " of " + w.Object.Name,
		object:    w.Object.Name,
		statement: statement,
		all:       w.IncludeDeleted,
		pageSize:  MinPageSize,
		decode:    func(b []byte) (*queryPage, error) { return decodePage(b, d) },
	}
	err = c.paginate(ctx, q, func(_ context.Context, p *queryPage) error {
		if !ok && len(p.records) > 0 {
			t, ok = p.records[0][0].(time.Time)
		}
		return nil
	})
	return t, ok, err
}
