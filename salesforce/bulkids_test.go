package salesforce

import (
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sfemu"
)

func TestIDValueAndString(t *testing.T) {
	for _, id := range []string{
		"001000000000000AAA", // the reference's example literal (§6)
		"001RO000003KZ3oYAG", "0055g00000AbCdEAAV", "a01zzzzzzzzzzzzAAA", "00Q5g0000004C92EAE",
	} {
		v := idValue(id)
		got := idString(v)
		if got[:15] != id[:15] {
			t.Errorf("idString(idValue(%s)) = %s", id, got)
		}
		if id != "a01zzzzzzzzzzzzAAA" && got != id {
			t.Errorf("idString(idValue(%s)) = %s: suffix differs", id, got)
		}
	}
	// Values order as the Ids compare: digits, then upper, then lower case.
	ids := []string{"001000000000009", "00100000000000A", "00100000000000Z", "00100000000000a", "00100000000000z", "001000000000010"}
	for i := 1; i < len(ids); i++ {
		if idValue(ids[i-1]).Cmp(idValue(ids[i])) >= 0 {
			t.Errorf("%s does not come before %s", ids[i-1], ids[i])
		}
	}
	if got := idString(big.NewInt(61)); got != "00000000000000zAAA" {
		t.Errorf("idString(61) = %s", got)
	}
}

// TestExtractBulkByIDRanges: a large window of an object without a
// timestamp field is read by several jobs over Id ranges, with bounded
// concurrency, and delivers exactly the records REST delivers, also when
// the Ids crowd into a small part of their span, with a filter, and when
// Bulk refuses the second job (the rest comes through REST from that
// range's start: no record twice).
func TestExtractBulkByIDRanges(t *testing.T) {
	e := newEmuOrg(t, sfemu.Options{Seed: 41, Records: map[string]int{"RecentlyViewed": 3000, "User": 5}, BulkPageSize: 200})
	rest := e.client(t, 0, nil)
	obj, err := rest.Describe(t.Context(), "RecentlyViewed")
	if err != nil {
		t.Fatal(err)
	}
	if obj.CursorField() != "" {
		t.Fatalf("RecentlyViewed has cursor field %s; the test needs an object without one", obj.CursorField())
	}
	window := func(filter string) sfsync.Window {
		return sfsync.Window{Object: obj, Fields: obj.ReplicatedFields(nil, nil), IncludeDeleted: true, Filter: filter}
	}
	ids := func() []string {
		var out []string
		for id := range e.emu.TruthAll("RecentlyViewed") {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T)
		filter string
		faults []sfemu.Fault
		serial bool     // one job at a time
		jobs   [2]int64 // at least, at most
	}{
		{name: "even Ids", jobs: [2]int64{6, 8}},
		{name: "filter", filter: "Type = 'Account' OR Type = 'Contact'", jobs: [2]int64{2, 4}},
		{name: "refused half-way", faults: []sfemu.Fault{{Kind: sfemu.FaultJobFail, Route: "bulkcreate", After: 1, Message: "INVALIDENTITY: RecentlyViewed is not supported by the Bulk API"}}, serial: true, jobs: [2]int64{2, 2}},
		{name: "crowded Ids", setup: func(t *testing.T) {
			// Purge the first 60% but a few: what is left crowds into
			// the top of the Id span.
			all := ids()
			for i, id := range all[:len(all)*3/5] {
				if i%200 == 0 {
					continue
				}
				if err := e.emu.Purge("RecentlyViewed", id); err != nil {
					t.Fatal(err)
				}
			}
		}, jobs: [2]int64{3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			want, err := extractAll(t.Context(), rest, window(tc.filter))
			if err != nil {
				t.Fatal(err)
			}
			if tc.filter == "" && want.n != len(ids()) {
				t.Fatalf("REST extracted %d records, the org holds %d", want.n, len(ids()))
			}
			for _, f := range tc.faults {
				e.emu.InjectFault(f)
			}
			defer e.emu.ClearFaults()
			c := e.client(t, -1, func(o *Options) {
				o.Bulk.JobRecords = 500
				o.Bulk.ResultRecords = 200
				o.Bulk.PageRecords = 150
				if tc.serial {
					o.Bulk.Concurrency = 1
				}
			})
			got, err := extractAll(t.Context(), c, window(tc.filter))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.byID, got.byID); diff != "" {
				t.Fatalf("Bulk by Id ranges and REST differ (-rest +bulk):\n%s", diff)
			}
			if got.n != len(got.byID) {
				t.Errorf("%d records delivered for %d Ids: ranges overlap", got.n, len(got.byID))
			}
			if n := c.BulkJobs(); n < tc.jobs[0] || n > tc.jobs[1] {
				t.Errorf("%d jobs for %d records, want %d to %d", n, want.n, tc.jobs[0], tc.jobs[1])
			}
			if left := e.emu.BulkJobs(); len(left) != 0 {
				t.Errorf("jobs left behind: %+v", left)
			}
		})
	}
}

// TestPlanIDRanges checks the planned Id ranges themselves: contiguous,
// open at both ends, each job's statement filtering by Id, and sized near
// JobRecords when Ids spread evenly.
func TestPlanIDRanges(t *testing.T) {
	e, rc := countedOrg(t, sfemu.Options{Seed: 42, Records: map[string]int{"RecentlyViewed": 4000, "User": 5}})
	c := e.client(t, -1, func(o *Options) { o.Bulk.JobRecords = 1000 })
	obj, err := c.Describe(t.Context(), "RecentlyViewed")
	if err != nil {
		t.Fatal(err)
	}
	w := sfsync.Window{Object: obj, Fields: obj.ReplicatedFields(nil, nil), IncludeDeleted: true}
	rc.take()
	ranges, err := c.planIDRanges(t.Context(), w, 4000)
	if err != nil {
		t.Fatal(err)
	}
	calls := rc.take()
	if len(ranges) != 4 || ranges[0].fromID != "" || ranges[len(ranges)-1].toID != "" {
		t.Fatalf("ranges %+v, want 4, open at both ends", ranges)
	}
	for i, r := range ranges {
		if i > 0 && r.fromID != ranges[i-1].toID {
			t.Errorf("range %d starts at %s, the one before ends at %s", i, r.fromID, ranges[i-1].toID)
		}
		below := w
		cond := []string{}
		if r.fromID != "" {
			cond = append(cond, "Id >= '"+r.fromID+"'")
		}
		if r.toID != "" {
			cond = append(cond, "Id < '"+r.toID+"'")
		}
		below.Filter = strings.Join(cond, " AND ")
		n, err := c.Count(t.Context(), below)
		if err != nil {
			t.Fatal(err)
		}
		if n < 900 || n > 1100 {
			t.Errorf("range %d holds %d records, want about 1000", i, n)
		}
		q, err := bulkStatement(w, r)
		if err != nil {
			t.Fatal(err)
		}
		if (r.fromID != "") != strings.Contains(q, "Id >= '"+r.fromID+"'") || (r.toID != "") != strings.Contains(q, "Id < '"+r.toID+"'") {
			t.Errorf("range %d statement %s", i, q)
		}
	}
	if calls["query"] != 2 || calls["count"] > 3 {
		t.Errorf("planning calls %v, want 2 queries (first and last Id) and a COUNT() per boundary", calls)
	}
}
