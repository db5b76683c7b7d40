package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/soql"
)

// UpdatedResult is the answer of the updated resource.
type UpdatedResult struct {
	// IDs of records created or updated in the interval.
	IDs []string
	// LatestDateCovered is where the next interval should start; it may
	// lie before the requested end while a long transaction is open.
	LatestDateCovered time.Time
}

// DeletedRecord is one entry of the deleted resource.
type DeletedRecord struct {
	ID          string
	DeletedDate time.Time
}

// DeletedResult is the answer of the deleted resource.
type DeletedResult struct {
	Records []DeletedRecord
	// EarliestDateAvailable is the oldest delete still logged; a later
	// value than the last checkpoint means deletes were lost.
	EarliestDateAvailable time.Time
	// LatestDateCovered is where the next interval should start.
	LatestDateCovered time.Time
}

// Updated lists the Ids of records of object created or updated in [start,
// end). The server ignores seconds, keeps 30 days, and needs the object to
// be replicateable.
func (c *Client) Updated(ctx context.Context, object string, start, end time.Time) (*UpdatedResult, error) {
	var raw struct {
		IDs               []string `json:"ids"`
		LatestDateCovered string   `json:"latestDateCovered"`
	}
	if err := c.replication(ctx, "updated", object, start, end, &raw); err != nil {
		return nil, err
	}
	out := &UpdatedResult{IDs: raw.IDs}
	var err error
	if out.LatestDateCovered, err = optionalDateTime(raw.LatestDateCovered); err != nil {
		return nil, fmt.Errorf("updated %s: latestDateCovered: %w: %w", object, err, sfsync.ErrPermanent)
	}
	return out, nil
}

// Deleted lists records of object deleted in [start, end). The server
// ignores seconds and keeps 15 days at most.
func (c *Client) Deleted(ctx context.Context, object string, start, end time.Time) (*DeletedResult, error) {
	var raw struct {
		DeletedRecords []struct {
			ID          string `json:"id"`
			DeletedDate string `json:"deletedDate"`
		} `json:"deletedRecords"`
		EarliestDateAvailable string `json:"earliestDateAvailable"`
		LatestDateCovered     string `json:"latestDateCovered"`
	}
	if err := c.replication(ctx, "deleted", object, start, end, &raw); err != nil {
		return nil, err
	}
	out := &DeletedResult{Records: make([]DeletedRecord, 0, len(raw.DeletedRecords))}
	for _, r := range raw.DeletedRecords {
		t, err := optionalDateTime(r.DeletedDate)
		if err != nil {
			return nil, fmt.Errorf("deleted %s: record %s: deletedDate: %w: %w", object, r.ID, err, sfsync.ErrPermanent)
		}
		out.Records = append(out.Records, DeletedRecord{ID: r.ID, DeletedDate: t})
	}
	var err error
	if out.EarliestDateAvailable, err = optionalDateTime(raw.EarliestDateAvailable); err != nil {
		return nil, fmt.Errorf("deleted %s: earliestDateAvailable: %w: %w", object, err, sfsync.ErrPermanent)
	}
	if out.LatestDateCovered, err = optionalDateTime(raw.LatestDateCovered); err != nil {
		return nil, fmt.Errorf("deleted %s: latestDateCovered: %w: %w", object, err, sfsync.ErrPermanent)
	}
	return out, nil
}

// replicationLayout is the ISO 8601 form with a numeric offset the
// replication resources document; the query string encoding turns '+' into
// %2B.
const replicationLayout = "2006-01-02T15:04:05-07:00"

func (c *Client) replication(ctx context.Context, kind, object string, start, end time.Time, into any) error {
	what := kind + " " + object
	if !soql.ValidName(object) {
		return fmt.Errorf("%s: %q is not a Salesforce object name: %w", kind, object, sfsync.ErrPermanent)
	}
	if !start.Before(end) {
		return fmt.Errorf("%s: start %s is not before end %s: %w", what,
			start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), sfsync.ErrPermanent)
	}
	q := url.Values{}
	q.Set("start", start.UTC().Format(replicationLayout))
	q.Set("end", end.UTC().Format(replicationLayout))
	return c.do(ctx, &call{
		method:  http.MethodGet,
		path:    c.apiPath + "/sobjects/" + url.PathEscape(object) + "/" + kind + "/",
		query:   q.Encode(),
		what:    what,
		object:  object,
		decoder: jsonInto(into),
	})
}

func optionalDateTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return sfsync.ParseDateTime(s)
}
