package sfsync

import "errors"

// Sentinel errors that seams wrap, so callers decide by errors.Is and never by
// message text.
var (
	// ErrAPILimit: the org's API allowance is used up (REQUEST_LIMIT_EXCEEDED).
	// Never retried blindly: the object stops with an "API limit reached"
	// status and resumes on a later run.
	ErrAPILimit = errors.New("API limit reached")
	// ErrQueryTimeout: the source gave up on a query (QUERY_TIMEOUT). The
	// caller splits the window and tries the halves.
	ErrQueryTimeout = errors.New("query timed out at the source")
	// ErrInvalidLocator: a query cursor expired or is unknown
	// (INVALID_QUERY_LOCATOR). The caller restarts the window from its last
	// committed point.
	ErrInvalidLocator = errors.New("query locator invalid or expired")
	// ErrPermanent: retrying cannot help (MALFORMED_QUERY, INVALID_FIELD,
	// INVALID_TYPE, bad credentials, ...). The error names the object and
	// field at fault.
	ErrPermanent = errors.New("permanent error")
	// ErrBusy: another run holds the warehouse's run lock.
	ErrBusy = errors.New("another sfsync run is using this warehouse")
)
