package salesforce

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
)

// The wire side of Bulk API 2.0 query jobs (API reference §5): create, job
// info, abort, delete and result pages.

// Job states.
const (
	jobUploadComplete = "UploadComplete"
	jobInProgress     = "InProgress"
	jobComplete       = "JobComplete"
	jobFailed         = "Failed"
	jobAborted        = "Aborted"
)

// createTimeout bounds a job creation, which runs even after the caller's
// context ends so that the job's id is never lost: a job whose id is
// unknown cannot be cleaned up. cleanupTimeout bounds aborting and deleting
// one job.
const (
	createTimeout  = 2 * time.Minute
	cleanupTimeout = 30 * time.Second
)

// jobInfo is the part of a query job's info the client uses.
type jobInfo struct {
	ID           string `json:"id"`
	Operation    string `json:"operation"`
	Object       string `json:"object"`
	CreatedByID  string `json:"createdById"`
	CreatedDate  string `json:"createdDate"`
	State        string `json:"state"`
	ErrorMessage string `json:"errorMessage"`
	// NumberRecordsProcessed is the size of the job's result once
	// complete.
	NumberRecordsProcessed int64 `json:"numberRecordsProcessed"`
}

func terminal(state string) bool {
	return state == jobComplete || state == jobFailed || state == jobAborted
}

// refusedError is Bulk API refusing a query it does not support (an
// object, a base64 or compound field, ...): REST can still run it.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// refusal reports whether a create error or a failed job's message says
// Bulk does not support the query: INVALIDENTITY, or any message saying
// "not supported" (compound and base64 fields, aggregates, OFFSET), or a
// server without the jobs resource at all (404).
func refusal(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode >= 500 {
		return false
	}
	return apiErr.StatusCode == http.StatusNotFound || refusalText(apiErr.ErrorCode, apiErr.Message)
}

func refusalText(code, msg string) bool {
	return code == "INVALIDENTITY" || strings.Contains(msg, "INVALIDENTITY") ||
		strings.Contains(strings.ToLower(msg), "not supported")
}

// validJobID accepts what a Salesforce Id looks like, so an id from a
// response can go into a path safely.
func validJobID(id string) bool {
	if len(id) != 15 && len(id) != 18 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// createJob creates a CSV query job (queryAll when all is set). It runs to
// the end even when ctx is cancelled meanwhile, so the job can be cleaned
// up; the caller checks ctx afterwards.
func (c *Client) createJob(ctx context.Context, object, statement string, all bool) (*jobInfo, error) {
	op := "query"
	if all {
		op = "queryAll"
	}
	body, err := json.Marshal(map[string]string{
		"operation":       op,
		"query":           statement,
		"contentType":     "CSV",
		"columnDelimiter": "COMMA",
		"lineEnding":      "LF",
	})
	if err != nil {
		return nil, fmt.Errorf("create bulk job for %s: %w", object, err)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
	defer cancel()
	var info jobInfo
	err = c.do(cctx, &call{
		method:  http.MethodPost,
		path:    c.apiPath + "/jobs/query",
		what:    "create bulk job for " + object,
		object:  object,
		body:    func() io.Reader { return bytes.NewReader(body) },
		ctype:   "application/json",
		decoder: jsonInto(&info),
	})
	if err != nil {
		return nil, err
	}
	c.countJob(ctx)
	if !validJobID(info.ID) {
		return nil, fmt.Errorf("create bulk job for %s: the answer has no usable job id (%q): %w", object, clip([]byte(info.ID)), sfsync.ErrPermanent)
	}
	c.log.Debug("bulk job created", "object", object, "job", info.ID, "operation", op)
	return &info, nil
}

// jobState reads a job's info.
func (c *Client) jobState(ctx context.Context, object, id string) (*jobInfo, error) {
	var info jobInfo
	err := c.do(ctx, &call{
		method:  http.MethodGet,
		path:    c.apiPath + "/jobs/query/" + id,
		what:    "poll bulk job " + id,
		object:  object,
		decoder: jsonInto(&info),
	})
	if err != nil {
		return nil, err
	}
	return &info, nil
}

// abortJob asks for a job to stop.
func (c *Client) abortJob(ctx context.Context, object, id string) error {
	return c.do(ctx, &call{
		method: http.MethodPatch,
		path:   c.apiPath + "/jobs/query/" + id,
		what:   "abort bulk job " + id,
		object: object,
		body:   func() io.Reader { return strings.NewReader(`{"state":"Aborted"}`) },
		ctype:  "application/json",
	})
}

// deleteJob deletes a job and its results. A job that is already gone
// counts as deleted.
func (c *Client) deleteJob(ctx context.Context, object, id string) error {
	err := c.do(ctx, &call{
		method: http.MethodDelete,
		path:   c.apiPath + "/jobs/query/" + id,
		what:   "delete bulk job " + id,
		object: object,
	})
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return nil
	}
	return err
}

// resultReader reads result pages: gzip or plain (the server may compress
// without saying so, so the body is sniffed), then CSV. Its buffers are
// reused from page to page.
type resultReader struct {
	raw *bufio.Reader
	zr  *gzip.Reader
	csv *csvReader
}

func newResultReader() *resultReader {
	return &resultReader{raw: bufio.NewReaderSize(nil, 4096), csv: newCSVReader(nil, ',')}
}

// open starts reading a page body.
func (rr *resultReader) open(body io.Reader) error {
	rr.raw.Reset(body)
	magic, _ := rr.raw.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		var err error
		if rr.zr == nil {
			rr.zr, err = gzip.NewReader(rr.raw)
		} else {
			err = rr.zr.Reset(rr.raw)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("gzip results: %w", err)
		}
		rr.csv.reset(rr.zr)
		return nil
	}
	rr.csv.reset(rr.raw)
	return nil
}

// resultPage is one results request's state, kept across its retries.
type resultPage struct {
	locator  string // the page's own locator; "" for the first
	link     string // a results URL from resultPages, used instead of locator
	next     string // Sforce-Locator of the answer
	declared int64  // Sforce-NumberOfRecords, or -1
	taken    int    // records already handed on, skipped when the page is fetched again
}

// fetchResults streams one result page of a job into add. A body cut short
// is fetched again (the locator stays valid) and the records handed on
// before the cut are skipped, so none is lost or repeated.
func (c *Client) fetchResults(ctx context.Context, object, id string, n int, p *resultPage, rr *resultReader, d *csvDecoder, add func(sfsync.Record) error) error {
	path := c.apiPath + "/jobs/query/" + id + "/results"
	q := url.Values{}
	q.Set("maxRecords", strconv.Itoa(c.bulk.ResultRecords))
	if p.locator != "" {
		q.Set("locator", p.locator)
	}
	query := q.Encode()
	if p.link != "" {
		var err error
		if path, query, err = resultsLink(p.link, id); err != nil {
			return fmt.Errorf("bulk results of %s job %s page %d: %w", object, id, n, err)
		}
	}
	return c.do(ctx, &call{
		method: http.MethodGet,
		path:   path,
		query:  query,
		what:   fmt.Sprintf("bulk results of %s job %s page %d", object, id, n),
		object: object,
		header: map[string]string{"Accept": "text/csv"},
		onHeader: func(h http.Header) {
			p.next = strings.TrimSpace(h.Get("Sforce-Locator"))
			p.declared = -1
			if v, err := strconv.ParseInt(strings.TrimSpace(h.Get("Sforce-NumberOfRecords")), 10, 64); err == nil && v >= 0 {
				p.declared = v
			}
		},
		decoder: func(body io.Reader) error {
			if err := rr.open(body); err != nil {
				return err
			}
			cr := rr.csv
			if err := cr.read(); err != nil {
				if err == io.EOF {
					return fmt.Errorf("results page has no header row: %w", io.ErrUnexpectedEOF)
				}
				return err
			}
			if err := d.header(cr); err != nil {
				return err
			}
			rows := 0
			for {
				err := cr.read()
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
				rows++
				if rows <= p.taken {
					continue
				}
				rec, err := d.record(cr)
				if err != nil {
					return err
				}
				if err := add(rec); err != nil {
					return err
				}
				p.taken = rows
			}
			if p.declared >= 0 && int64(rows) < p.declared {
				return fmt.Errorf("results page ends after %d of its %d records: %w", rows, p.declared, io.ErrUnexpectedEOF)
			}
			return nil
		},
	})
}
