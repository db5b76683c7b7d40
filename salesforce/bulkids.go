package salesforce

import (
	"context"
	"fmt"
	"math/big"
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
	ax := axis[*big.Int]{
		compare: (*big.Int).Cmp,
		guesses: idGuesses,
		count: func(ctx context.Context, v *big.Int) (int64, error) {
			below := w
			below.Filter = andCondition(w.Filter, "Id < "+soql.Quote(idString(v)))
			return c.Count(ctx, below)
		},
	}
	pts, err := splitPoints(ctx, c, ax, lo, hi, total)
	if err != nil {
		return nil, fmt.Errorf("plan bulk jobs for %s: %w", w.Object.Name, err)
	}
	spans := mergeSpans(pts, limit)
	out := make([]bulkRange, len(spans))
	for i, r := range spans {
		out[i] = bulkRange{fromID: idString(r.from), toID: idString(r.to), count: r.count}
	}
	out[0].fromID = ""
	out[len(out)-1].toID = ""
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

// idGuesses proposes boundaries for an Id range: at even shares of its
// count, interpolated, and from the second round also at its middle, so
// that Ids crowded in a small part of it are cornered by halving too.
func idGuesses(round int, a, b cut[*big.Int], parts int64, target func(j int64) int64) []*big.Int {
	var out []*big.Int
	for j := int64(1); j < parts; j++ {
		out = append(out, interpolateID(a, b, target(j)))
	}
	if round > 1 {
		mid := new(big.Int).Add(a.at, b.at)
		out = append(out, mid.Rsh(mid, 1))
	}
	return out
}

// interpolateID returns the Id value between a and b where the cumulative
// count reaches n, assuming Ids spread evenly between them.
func interpolateID(a, b cut[*big.Int], n int64) *big.Int {
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
	v, ok, err := c.edgeValue(ctx, w, "edge Id", f, dir, nil)
	if err != nil || !ok {
		return "", false, err
	}
	if id, ok = v.(string); !ok || !validJobID(id) {
		return "", false, fmt.Errorf("edge Id of %s: %q is not a record Id: %w", w.Object.Name, clip([]byte(fmt.Sprint(v))), sfsync.ErrPermanent)
	}
	return id, true, nil
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
