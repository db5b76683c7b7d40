package salesforce

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/soql"
)

// Id ranges. A window without a cursor field (an object with neither
// SystemModstamp, LastModifiedDate nor CreatedDate, fully refreshed every
// run) cannot be split by time, so a large one is split by Id: consecutive
// ranges "Id >= a AND Id < b", the first open below and the last open
// above. SOQL compares Ids as string literals (API reference §6: "IDs are
// strings: Id > '001000000000000AAA'"), so such ranges never overlap and
// together hold every record, whatever the records' Ids; how even they
// come out depends on how Ids spread, which the plan measures with COUNT()
// queries as the time plan does.
//
// The boundaries are interpolated between the window's smallest and
// largest Id (one REST query each), reading the first 15 characters of an
// Id as a base-62 number with the digits in the order SOQL compares them
// ('0'-'9' < 'A'-'Z' < 'a'-'z'). They are written in the 18-character form
// with the case-safe suffix, as in the reference's example literal.

// base62 are the characters of a 15-character Id, in comparison order.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// idPoint is a known point of the window's cumulative count: n records
// have an Id below at.
type idPoint struct {
	at *big.Int
	n  int64
}

// planIDRanges splits a window without a cursor field into consecutive Id
// ranges of at most about JobRecords records, with the same count budget
// and merging of small neighbours as planRanges. A window within
// JobRecords is one job.
func (c *Client) planIDRanges(ctx context.Context, w sfsync.Window, total int64) ([]bulkRange, error) {
	whole := []bulkRange{{count: total}}
	limit := c.bulk.JobRecords
	if total <= limit {
		return whole, nil
	}
	first, last, ok, err := c.idBounds(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("plan bulk jobs for %s: %w", w.Object.Name, err)
	}
	if !ok {
		return whole, nil
	}
	lo, hi := idValue(first), idValue(last)
	hi.Add(hi, big.NewInt(1))
	if new(big.Int).Sub(hi, lo).Cmp(big.NewInt(2)) < 0 {
		return whole, nil
	}
	pts := []idPoint{{lo, 0}, {hi, total}}
	budget := planCountsBase + planCounts*int((total+limit-1)/limit)
	over := limit * planOverflowNum / planOverflowDen
	for round := 1; budget > 0; round++ {
		// Ranges between known points that hold too many records get
		// boundaries at even shares of their count, interpolated; from
		// the second round also the middle of the range, so that Ids
		// crowded in a small part of it are cornered by halving too.
		var guesses []*big.Int
		add := func(a, b idPoint, v *big.Int) {
			if v.Cmp(a.at) > 0 && v.Cmp(b.at) < 0 {
				guesses = append(guesses, v)
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
				add(a, b, interpolateID(a, b, a.n+c.pageAligned(n*j/parts, j, n/parts)))
			}
			if round > 1 {
				mid := new(big.Int).Add(a.at, b.at)
				add(a, b, mid.Rsh(mid, 1))
			}
		}
		slices.SortFunc(guesses, (*big.Int).Cmp)
		guesses = slices.CompactFunc(guesses, func(x, y *big.Int) bool { return x.Cmp(y) == 0 })
		if len(guesses) == 0 {
			break
		}
		for _, v := range guesses {
			if budget == 0 {
				break
			}
			budget--
			below := w
			below.Filter = andCondition(w.Filter, "Id < "+soql.Quote(idString(v)))
			n, err := c.Count(ctx, below)
			if err != nil {
				return nil, fmt.Errorf("plan bulk jobs for %s: %w", w.Object.Name, err)
			}
			pts = append(pts, idPoint{v, n})
		}
		slices.SortFunc(pts, func(x, y idPoint) int { return x.at.Cmp(y.at) })
		for i := 1; i < len(pts); i++ {
			pts[i].n = min(max(pts[i].n, pts[i-1].n), total)
		}
		pts[len(pts)-1].n = max(pts[len(pts)-1].n, total)
	}
	var out []bulkRange
	for i := 0; i+1 < len(pts); i++ {
		r := bulkRange{fromID: idString(pts[i].at), count: pts[i+1].n - pts[i].n}
		if i+2 < len(pts) {
			r.toID = idString(pts[i+1].at)
		}
		if k := len(out) - 1; k >= 0 && (out[k].count+r.count <= limit || r.count == 0 || out[k].count == 0) {
			out[k].toID = r.toID
			out[k].count += r.count
			continue
		}
		out = append(out, r)
	}
	out[0].fromID = ""
	c.log.Info("bulk extraction split into jobs by Id", "object", w.Object.Name, "jobs", len(out), "records", total)
	return out, nil
}

// andCondition ANDs cond to a window's filter.
func andCondition(filter, cond string) string {
	if strings.TrimSpace(filter) == "" {
		return cond
	}
	return "(" + filter + ") AND " + cond
}

// interpolateID returns the Id value between a and b where the cumulative
// count reaches n, assuming Ids spread evenly between them.
func interpolateID(a, b idPoint, n int64) *big.Int {
	span := new(big.Int).Sub(b.at, a.at)
	if b.n <= a.n {
		return span.Rsh(span, 1).Add(span, a.at)
	}
	span.Mul(span, big.NewInt(n-a.n))
	span.Quo(span, big.NewInt(b.n-a.n))
	return span.Add(span, a.at)
}

// idBounds returns the smallest and largest Id of the window's records;
// ok is false when it holds none. Each is one REST query for one record.
func (c *Client) idBounds(ctx context.Context, w sfsync.Window) (first, last string, ok bool, err error) {
	if first, ok, err = c.edgeID(ctx, w, soql.Asc); err != nil || !ok {
		return "", "", ok, err
	}
	if last, ok, err = c.edgeID(ctx, w, soql.Desc); err != nil || !ok {
		return "", "", ok, err
	}
	return first, last, true, nil
}

// edgeID returns the window's first Id in the order dir.
func (c *Client) edgeID(ctx context.Context, w sfsync.Window, dir soql.Dir) (id string, ok bool, err error) {
	f, found := w.Object.Field("Id")
	if !found {
		return "", false, fmt.Errorf("%s has no Id field: %w", w.Object.Name, sfsync.ErrPermanent)
	}
	fields := []sfsync.Field{f}
	b := soql.Select(w.Object, fields)
	if strings.TrimSpace(w.Filter) != "" {
		b.Where(w.Filter)
	}
	statement, err := b.OrderBy(f.Name, dir).Limit(1).Build()
	if err != nil {
		return "", false, fmt.Errorf("edge Id of %s: %w: %w", w.Object.Name, err, sfsync.ErrPermanent)
	}
	d := newRecordDecoder(w.Object.Name, fields)
	q := pagedQuery{
		what:      "edge Id of " + w.Object.Name,
		object:    w.Object.Name,
		statement: statement,
		all:       w.IncludeDeleted,
		pageSize:  MinPageSize,
		decode:    func(b []byte) (*queryPage, error) { return decodePage(b, d) },
	}
	err = c.paginate(ctx, q, func(_ context.Context, p *queryPage) error {
		if !ok && len(p.records) > 0 {
			id, ok = p.records[0][0].(string)
		}
		return nil
	})
	if err == nil && ok && !validJobID(id) {
		return "", false, fmt.Errorf("edge Id of %s: %q is not a record Id: %w", w.Object.Name, clip([]byte(id)), sfsync.ErrPermanent)
	}
	return id, ok, err
}

// idValue reads the first 15 characters of a valid Id as a base-62 number.
func idValue(id string) *big.Int {
	v := new(big.Int)
	sixtyTwo := big.NewInt(62)
	for i := 0; i < 15; i++ {
		v.Mul(v, sixtyTwo)
		v.Add(v, big.NewInt(int64(strings.IndexByte(base62, id[i]))))
	}
	return v
}

// idString writes v (below 62^15) as an 18-character Id: 15 base-62 digits
// and the case-safe suffix, whose three characters each encode which of
// five characters are upper-case letters.
func idString(v *big.Int) string {
	var b [18]byte
	x := new(big.Int).Set(v)
	sixtyTwo := big.NewInt(62)
	digit := new(big.Int)
	for i := 14; i >= 0; i-- {
		x.QuoRem(x, sixtyTwo, digit)
		b[i] = base62[digit.Int64()]
	}
	const suffix = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	for chunk := range 3 {
		bits := 0
		for i := range 5 {
			if c := b[chunk*5+i]; c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		b[15+chunk] = suffix[bits]
	}
	return string(b[:])
}
