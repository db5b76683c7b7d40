package sfemu

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func replicationPath(object, kind string, start, end time.Time) string {
	return "/services/data/v62.0/sobjects/" + object + "/" + kind + "/?start=" +
		url.QueryEscape(start.Format(time.RFC3339)) + "&end=" + url.QueryEscape(end.Format(time.RFC3339))
}

func TestUpdated(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 20}})
	base := o.clock.Now() // 12:00:00
	o.clock.Advance(90 * time.Second)
	a := mustCreate(t, o.emu, "Account", map[string]any{"Name": "a"}) // 12:01:30
	o.clock.Advance(2 * time.Minute)
	b := mustCreate(t, o.emu, "Account", map[string]any{"Name": "b"}) // 12:03:30
	c := mustCreate(t, o.emu, "Account", map[string]any{"Name": "c"})
	if err := o.emu.Delete("Account", c); err != nil {
		t.Fatal(err)
	}
	o.clock.Advance(time.Minute) // now 12:04:30

	var got updatedResult
	// Seconds are ignored: 12:01:45 → 12:01:00; the end is capped at the
	// current minute.
	decode(t, o.get(replicationPath("Account", "updated", base.Add(105*time.Second), base.Add(time.Hour))), http.StatusOK, &got)
	want := updatedResult{IDs: []string{a, b}, LatestDateCovered: "2024-06-01T12:04:00.000+0000"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}
	decode(t, o.get(replicationPath("Account", "updated", base.Add(2*time.Minute), base.Add(3*time.Minute+59*time.Second))), http.StatusOK, &got)
	want = updatedResult{IDs: []string{}, LatestDateCovered: "2024-06-01T12:03:00.000+0000"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("updated, narrow window (-want +got):\n%s", diff)
	}
	// AccountHistory replicates by CreatedDate.
	h := mustCreate(t, o.emu, "AccountHistory", map[string]any{"AccountId": a, "Field": "Name"})
	o.clock.Advance(time.Minute)
	decode(t, o.get(replicationPath("AccountHistory", "updated", base, o.clock.Now())), http.StatusOK, &got)
	if diff := cmp.Diff([]string{h}, got.IDs); diff != "" {
		t.Errorf("AccountHistory updated (-want +got):\n%s", diff)
	}
}

func TestDeleted(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Contact": 20}})
	base := o.clock.Now()
	ids := truthIDs(o.emu, "Contact", false)
	o.clock.Advance(61 * time.Second)
	for _, id := range ids[:3] {
		if err := o.emu.Delete("Contact", id); err != nil {
			t.Fatal(err)
		}
	}
	o.clock.Advance(time.Minute)
	if err := o.emu.Purge("Contact", ids[0]); err != nil { // already in the log
		t.Fatal(err)
	}
	if err := o.emu.Purge("Contact", ids[5]); err != nil { // hard delete of a live record
		t.Fatal(err)
	}
	if err := o.emu.Undelete("Contact", ids[2]); err != nil {
		t.Fatal(err)
	}
	o.clock.Advance(time.Minute)
	var got deletedResult
	decode(t, o.get(replicationPath("Contact", "deleted", base, base.Add(time.Hour))), http.StatusOK, &got)
	want := deletedResult{
		DeletedRecords: []deletedRecord{
			{ID: ids[0], DeletedDate: "2024-06-01T12:01:01.000+0000"},
			{ID: ids[1], DeletedDate: "2024-06-01T12:01:01.001+0000"},
			{ID: ids[5], DeletedDate: "2024-06-01T12:02:01.000+0000"},
		},
		EarliestDateAvailable: "2024-05-17T12:03:00.000+0000",
		LatestDateCovered:     "2024-06-01T12:03:00.000+0000",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
}

func TestReplicationErrors(t *testing.T) {
	o := newOrg(t, Options{})
	now := o.clock.Now()
	tests := []struct {
		name   string
		path   string
		status int
		code   string
	}{
		{"end before start", replicationPath("Account", "updated", now, now.Add(-time.Hour)), 400, "INVALID_REPLICATION_DATE"},
		{"same minute", replicationPath("Account", "updated", now, now.Add(30*time.Second)), 400, "INVALID_REPLICATION_DATE"},
		{"updated too old", replicationPath("Account", "updated", now.Add(-31*24*time.Hour), now), 400, "INVALID_REPLICATION_DATE"},
		{"deleted too old", replicationPath("Account", "deleted", now.Add(-16*24*time.Hour), now), 400, "INVALID_REPLICATION_DATE"},
		{"bad date", "/services/data/v62.0/sobjects/Account/updated/?start=yesterday&end=today", 400, "INVALID_REPLICATION_DATE"},
		{"missing end", "/services/data/v62.0/sobjects/Account/deleted/?start=2024-06-01T00:00:00Z", 400, "MISSING_ARGUMENT"},
		{"not replicateable", replicationPath("RecentlyViewed", "updated", now.Add(-time.Hour), now), 400, "INVALID_TYPE"},
		{"unknown object", replicationPath("Nope", "deleted", now.Add(-time.Hour), now), 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, o.get(tt.path), tt.status, tt.code)
		})
	}
	// Within the windows, and with the +00:00 offset form, all is well.
	decode(t, o.get(replicationPath("Account", "updated", now.Add(-29*24*time.Hour), now)), http.StatusOK, nil)
	decode(t, o.get("/services/data/v62.0/sobjects/Account/deleted/?start=2024-05-31T00%3A00%3A00%2B00%3A00&end=2024-06-01T00%3A00%3A00%2B00%3A00"), http.StatusOK, nil)
}
