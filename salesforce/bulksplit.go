package salesforce

import (
	"context"
	"slices"
)

// Planning a window's query jobs: consecutive ranges of about JobRecords
// records each, found with few calls. Each call spent here is one the
// extraction could have spent on results, so the plan guesses boundaries
// by interpolation and counts each guess once, counting more only where a
// range came out much too large. Windows are split along their cursor
// (planRanges) or, without one, along Id (planIDRanges); splitPoints and
// mergeSpans are the part both share.

// planOverflow is how far over JobRecords a range may come out before it
// is split further (1.25x), and planCounts how many COUNT() queries one
// plan may spend per job it plans, plus planCountsBase.
const (
	planOverflowNum, planOverflowDen = 5, 4
	planCounts, planCountsBase       = 2, 4
)

// cut is a known point of a window's cumulative count: n records lie
// below at.
type cut[P any] struct {
	at P
	n  int64
}

// axis is what planning needs of the order a window is split along.
type axis[P any] struct {
	compare func(a, b P) int
	// guesses proposes boundaries inside the range from a to b, which
	// holds too many records for one job and should become parts ranges;
	// target(j) is the cumulative count the j-th boundary (1 ≤ j < parts)
	// should reach. round counts from 1.
	guesses func(round int, a, b cut[P], parts int64, target func(j int64) int64) []P
	// count returns how many of the window's records lie below p.
	count func(ctx context.Context, p P) (int64, error)
}

// splitPoints refines the known points lo (0 records below) and hi (all
// total) until no range between neighbours holds over 1.25x JobRecords or
// the count budget is spent, and returns the points in order.
func splitPoints[P any](ctx context.Context, c *Client, ax axis[P], lo, hi P, total int64) ([]cut[P], error) {
	limit := c.bulk.JobRecords
	pts := []cut[P]{{lo, 0}, {hi, total}}
	budget := planCountsBase + planCounts*int((total+limit-1)/limit)
	over := limit * planOverflowNum / planOverflowDen
	for round := 1; budget > 0; round++ {
		var guesses []P
		for i := 0; i+1 < len(pts); i++ {
			a, b := pts[i], pts[i+1]
			n := b.n - a.n
			if n <= over {
				continue
			}
			parts := (n + limit - 1) / limit
			target := func(j int64) int64 { return a.n + c.pageAligned(n*j/parts, j, n/parts) }
			for _, v := range ax.guesses(round, a, b, parts, target) {
				if ax.compare(v, a.at) > 0 && ax.compare(v, b.at) < 0 {
					guesses = append(guesses, v)
				}
			}
		}
		slices.SortFunc(guesses, ax.compare)
		guesses = slices.CompactFunc(guesses, func(x, y P) bool { return ax.compare(x, y) == 0 })
		if len(guesses) == 0 {
			break
		}
		for _, v := range guesses {
			if budget == 0 {
				break
			}
			budget--
			n, err := ax.count(ctx, v)
			if err != nil {
				return nil, err
			}
			pts = append(pts, cut[P]{v, n})
		}
		slices.SortFunc(pts, func(x, y cut[P]) int { return ax.compare(x.at, y.at) })
		// Counts taken at different moments can disagree a little; keep
		// the cumulative count monotonic and within the total.
		for i := 1; i < len(pts); i++ {
			pts[i].n = min(max(pts[i].n, pts[i-1].n), total)
		}
		pts[len(pts)-1].n = max(pts[len(pts)-1].n, total)
	}
	return pts, nil
}

// span is one planned range: from (inclusive) to (exclusive) holding
// about count records.
type span[P any] struct {
	from, to P
	count    int64
}

// mergeSpans turns consecutive points into ranges, merging neighbours that
// fit in one job together, or one of which is empty.
func mergeSpans[P any](pts []cut[P], limit int64) []span[P] {
	var out []span[P]
	for i := 0; i+1 < len(pts); i++ {
		r := span[P]{from: pts[i].at, to: pts[i+1].at, count: pts[i+1].n - pts[i].n}
		if k := len(out) - 1; k >= 0 && (out[k].count+r.count <= limit || r.count == 0 || out[k].count == 0) {
			out[k].to = r.to
			out[k].count += r.count
			continue
		}
		out = append(out, r)
	}
	return out
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
