package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"

	"github.com/sfsync/sfsync"
)

// APIError is an error answer from Salesforce: a REST error (a JSON array of
// {message, errorCode, fields}) or a token-endpoint error ({error,
// error_description}). Bodies that are not JSON (HTML from an edge proxy, or
// empty) give the HTTP status text as the message.
type APIError struct {
	StatusCode int      // HTTP status
	ErrorCode  string   // errorCode ("INVALID_FIELD") or OAuth error ("invalid_grant")
	Message    string   // message or error_description, as sent
	Fields     []string // fields named by the error, when sent
	RequestID  string   // the response's request id header, when sent
	Object     string   // the object the call was about, when known
	Field      string   // the field at fault, when known (INVALID_FIELD)

	oauth bool // from the token endpoint
}

// Error describes the error in one line: the code, the status, where it
// happened and the server's explanation.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.class() == APILimit {
		b.WriteString("API limit reached: ")
	}
	if e.ErrorCode != "" {
		b.WriteString(e.ErrorCode)
	} else {
		b.WriteString("error")
	}
	fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	switch {
	case e.Object != "" && e.Field != "":
		fmt.Fprintf(&b, " on %s.%s", e.Object, e.Field)
	case e.Object != "":
		fmt.Fprintf(&b, " on %s", e.Object)
	case e.Field != "":
		fmt.Fprintf(&b, " on field %s", e.Field)
	}
	if msg := summary(e.Message); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// Is lets errors.Is match the sentinels of package sfsync: ErrAPILimit,
// ErrQueryTimeout, ErrInvalidLocator and ErrPermanent, by the error's Class.
func (e *APIError) Is(target error) bool {
	switch e.class() {
	case APILimit:
		return target == sfsync.ErrAPILimit
	case QueryTimeout:
		return target == sfsync.ErrQueryTimeout
	case InvalidLocator:
		return target == sfsync.ErrInvalidLocator
	case Permanent:
		return target == sfsync.ErrPermanent
	}
	return false
}

// summary condenses a server message to one line. Query errors carry the
// statement and a caret on lines of their own; the last line is the
// explanation.
func summary(msg string) string {
	msg = strings.TrimSpace(msg)
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = strings.TrimSpace(msg[i+1:])
	}
	const max = 400
	if len(msg) > max {
		msg = msg[:max] + "..."
	}
	return msg
}

// Class is what a caller should do about an error.
type Class int

// Error classes. The zero value is Permanent: an error nobody recognises is
// not retried.
const (
	// Permanent: retrying cannot help (bad query, unknown field or object,
	// no access, bad credentials, undecodable data).
	Permanent Class = iota
	// Retryable: a transient fault (5xx, SERVER_UNAVAILABLE, connection
	// reset, timeout, truncated body, concurrent-request limit); retry the
	// same request after a backoff.
	Retryable
	// Reauthenticate: the session expired (401 INVALID_SESSION_ID); log in
	// again once and retry the same request.
	Reauthenticate
	// APILimit: the org's daily API allowance is used up; stop.
	APILimit
	// InvalidLocator: the query cursor expired; restart the query.
	InvalidLocator
	// QueryTimeout: the query ran too long; split the window.
	QueryTimeout
)

var classNames = [...]string{"permanent", "retryable", "reauthenticate", "api limit", "invalid locator", "query timeout"}

// String names the class for logs.
func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return "unknown"
	}
	return classNames[c]
}

// Classify is the one place that decides how an error is handled. API errors
// are classified by errorCode first and HTTP status second (Salesforce
// reports the daily limit as 403, not 429); transport faults and truncated
// bodies are Retryable; anything else, including a cancelled context, is
// Permanent.
func Classify(err error) Class {
	if err == nil {
		return Permanent
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.class()
	}
	var decErr *decodeError
	if errors.As(err, &decErr) {
		return Permanent
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return Retryable
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED) {
		return Retryable
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return Retryable
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return Retryable
	}
	return Permanent
}

func (e *APIError) class() Class {
	if e.oauth {
		switch {
		case e.ErrorCode == "rate_limit_exceeded":
			return APILimit
		case e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests:
			return Retryable
		}
		return Permanent
	}
	switch e.ErrorCode {
	case "INVALID_SESSION_ID":
		return Reauthenticate
	case "REQUEST_LIMIT_EXCEEDED":
		// The concurrency flavour ("ConcurrentPerOrgLongTxn Limit
		// exceeded.") clears as soon as long requests finish; the daily
		// one ("TotalRequests Limit exceeded.") does not.
		if strings.Contains(strings.ToLower(e.Message), "concurrent") {
			return Retryable
		}
		return APILimit
	case "INVALID_QUERY_LOCATOR":
		return InvalidLocator
	case "QUERY_TIMEOUT":
		return QueryTimeout
	case "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION":
		return Retryable
	case "MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", "NOT_FOUND", "API_DISABLED_FOR_ORG",
		"INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY", "INVALID_REPLICATION_DATE", "EXCEEDED_ID_LIMIT":
		return Permanent
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return Reauthenticate
	case http.StatusNotAcceptable, 420, http.StatusTooManyRequests:
		return Retryable
	}
	if e.StatusCode >= 500 {
		return Retryable
	}
	return Permanent
}

// restError is one element of a REST error body.
type restError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields"`
}

// tokenError is a token endpoint error body.
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

var noSuchColumn = regexp.MustCompile(`No such column '([^']+)'`)
var sobjectType = regexp.MustCompile(`sObject type '([^']+)'`)

// parseAPIError builds an *APIError from a REST error answer. Only the first
// error of the array is kept; Salesforce sends one for reads.
func parseAPIError(status int, header http.Header, body []byte, object string) *APIError {
	e := &APIError{StatusCode: status, Object: object, RequestID: requestID(header)}
	var list []restError
	if err := json.Unmarshal(body, &list); err == nil && len(list) > 0 {
		e.ErrorCode, e.Message, e.Fields = list[0].ErrorCode, list[0].Message, list[0].Fields
	} else {
		// Some endpoints answer with a single object rather than an array.
		var one restError
		if err := json.Unmarshal(body, &one); err == nil && (one.ErrorCode != "" || one.Message != "") {
			e.ErrorCode, e.Message, e.Fields = one.ErrorCode, one.Message, one.Fields
		} else {
			e.Message = http.StatusText(status)
		}
	}
	switch e.ErrorCode {
	case "INVALID_FIELD":
		if m := noSuchColumn.FindStringSubmatch(e.Message); m != nil {
			e.Field = m[1]
		}
	case "INVALID_TYPE":
		if m := sobjectType.FindStringSubmatch(e.Message); m != nil && e.Object == "" {
			e.Object = m[1]
		}
	}
	if e.Field == "" && len(e.Fields) == 1 {
		e.Field = e.Fields[0]
	}
	return e
}

// parseTokenError builds an *APIError from a token endpoint error answer,
// tolerating a missing description and a body that is not JSON.
func parseTokenError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status, RequestID: requestID(header), oauth: true}
	var te tokenError
	if err := json.Unmarshal(body, &te); err == nil && te.Error != "" {
		e.ErrorCode, e.Message = te.Error, te.Description
	} else {
		e.Message = http.StatusText(status)
	}
	return e
}

func requestID(h http.Header) string {
	for _, k := range []string{"X-Request-Id", "Sforce-Request-Id", "X-Sfdc-Request-Id"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// decodeError is a record value that does not fit its field's type. It is
// Permanent: fetching the page again gives the same value.
type decodeError struct {
	Object, Field, ID string
	Err               error
}

func (e *decodeError) Error() string {
	id := e.ID
	if id == "" {
		id = "(no Id)"
	}
	return fmt.Sprintf("decode %s record %s, field %s: %v", e.Object, id, e.Field, e.Err)
}

func (e *decodeError) Unwrap() []error { return []error{e.Err, sfsync.ErrPermanent} }
