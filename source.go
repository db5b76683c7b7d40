package sfsync

import (
	"context"
	"time"
)

// Window is one extraction: the records of an object whose cursor field lies
// in [From, To), ordered by the cursor field and then Id so that records
// sharing a timestamp keep a stable order across pages.
type Window struct {
	Object *Object
	// Fields are the selected fields, in the order Records carry them. They
	// never include compound parents (see Object.ReplicatedFields).
	Fields []Field
	// CursorField filters and orders the window; "" selects every record,
	// ordered by Id.
	CursorField string
	// From is inclusive and To exclusive; a zero time leaves that side open.
	From, To time.Time
	// IncludeDeleted selects soft-deleted and merged-away records too
	// (queryAll), so deletes arrive as rows with IsDeleted = true.
	IncludeDeleted bool
	// Filter is an extra SOQL condition from configuration, ANDed to the
	// window's own. Empty for none.
	Filter string
	// PageSize asks for this many records per page (a hint; 0 for the
	// source's default).
	PageSize int
}

// Page is one page of a window's records.
type Page struct {
	Records []Record
	// Total is the source's count of records in the whole window (REST
	// totalSize), or -1 when the source does not say.
	Total int64
	// Checkpoint is how far the window has been delivered: every record of
	// the window whose cursor value is before Checkpoint is in this page or
	// an earlier one. Zero when the source cannot say yet (Bulk results
	// arrive unordered within a job). The engine commits a cursor only at
	// a checkpoint, so records sharing a timestamp across pages, batches or
	// runs are never skipped.
	Checkpoint time.Time
}

// Source is where records come from: Salesforce through its APIs, or the
// emulator behind the same API.
//
// Methods are safe for concurrent use. Errors wrap the sentinels in errors.go
// (ErrAPILimit, ErrQueryTimeout, ErrInvalidLocator, ErrPermanent) where they
// apply, so callers decide with errors.Is; transient faults have already been
// retried by the time an error is returned.
type Source interface {
	// Objects lists the org's objects (describe global).
	Objects(ctx context.Context) ([]ObjectInfo, error)
	// Describe returns one object's fields.
	Describe(ctx context.Context, object string) (*Object, error)
	// Count returns how many records the window holds (COUNT()), for
	// progress and for choosing an extraction path.
	Count(ctx context.Context, w Window) (int64, error)
	// Extract calls fn with each page of the window in order. Memory is
	// bounded by a small number of pages, whatever the window's size. A
	// non-nil error from fn stops extraction and is returned.
	Extract(ctx context.Context, w Window, fn func(context.Context, *Page) error) error
	// Now returns the source's own clock, as of its latest response.
	// Windows end at the source's time, never the local one, so clock skew
	// cannot skip records.
	Now(ctx context.Context) (time.Time, error)
	// Usage reports API consumption as the source last reported it.
	Usage() APIUsage
}

// APIUsage is the org's API consumption, from the Sforce-Limit-Info header
// of the latest response, plus the calls this process made.
type APIUsage struct {
	Used  int64 // calls used in the org's rolling 24 hours
	Max   int64 // the org's daily allowance; 0 when unknown
	Calls int64 // HTTP calls this process made to the API
}

// Share is Used/Max, or 0 when Max is unknown.
func (u APIUsage) Share() float64 {
	if u.Max <= 0 {
		return 0
	}
	return float64(u.Used) / float64(u.Max)
}
