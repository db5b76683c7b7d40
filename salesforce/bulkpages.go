package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/sfsync/sfsync"
)

// Parallel result pages (API reference §5.6, API 58.0 and later): GET
// jobs/query/{id}/resultPages lists up to five results URLs of a complete
// job, each with its own locator, so they can be fetched at once; a list
// says whether it is the last (done) and where the next one is. The
// element names are uncertain: the documentation's table says resultUrl
// and nextRecordUrl, other sources resultLink and nextRecordsUrl, and the
// entries may be objects or plain strings. Every spelling is accepted.

// errNoResultPages is a server without the resultPages resource.
var errNoResultPages = errors.New("the server has no resultPages resource")

// minResultPagesVersion is the first API version with resultPages.
const minResultPagesVersion = 58.0

// parallelResults reports whether result pages are fetched in parallel:
// asked for, the API version has resultPages and the server did not
// answer 404 to it before.
func (c *Client) parallelResults() bool {
	if c.bulk.ResultStreams <= 1 || c.noResultPages.Load() {
		return false
	}
	v, err := strconv.ParseFloat(strings.TrimPrefix(c.apiPath, "/services/data/v"), 64)
	return err == nil && v >= minResultPagesVersion
}

// resultPagesList is one resultPages answer.
type resultPagesList struct {
	Pages          []resultLink `json:"resultPages"`
	Done           *bool        `json:"done"`
	NextRecordURL  *string      `json:"nextRecordUrl"`
	NextRecordsURL *string      `json:"nextRecordsUrl"`
}

// next is the URL of the following list, "" when this one is the last.
func (l *resultPagesList) next() string {
	if l.Done != nil && *l.Done {
		return ""
	}
	for _, u := range []*string{l.NextRecordURL, l.NextRecordsURL} {
		if u != nil && *u != "" && *u != "null" {
			return *u
		}
	}
	return ""
}

// resultLink is one results URL: a string, or an object holding it as
// resultUrl or resultLink.
type resultLink string

func (l *resultLink) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = resultLink(s)
		return nil
	}
	var o struct {
		ResultURL  string `json:"resultUrl"`
		ResultLink string `json:"resultLink"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*l = resultLink(o.ResultURL)
	if *l == "" {
		*l = resultLink(o.ResultLink)
	}
	return nil
}

// resultsLink splits a results URL from a resultPages list into path and
// query, accepting only the results resource of the job at hand.
func resultsLink(link, id string) (path, query string, err error) {
	path, query, err = splitNext(link)
	if err != nil {
		return "", "", err
	}
	if !strings.HasPrefix(path, "/services/data/") || !strings.HasSuffix(path, "/jobs/query/"+id+"/results") {
		return "", "", fmt.Errorf("results URL %q is not a results page of job %s: %w", clip([]byte(link)), id, sfsync.ErrPermanent)
	}
	return path, query, nil
}

// listResultPages reads one list of results URLs: the first when next is
// "", else the list next names.
func (c *Client) listResultPages(ctx context.Context, object, id, next string) (*resultPagesList, error) {
	path := c.apiPath + "/jobs/query/" + id + "/resultPages"
	q := url.Values{}
	q.Set("maxRecords", strconv.Itoa(c.bulk.ResultRecords))
	query := q.Encode()
	if next != "" {
		var err error
		if path, query, err = splitNext(next); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(path, "/services/data/") || !strings.HasSuffix(path, "/jobs/query/"+id+"/resultPages") {
			return nil, fmt.Errorf("next resultPages URL %q is not one of job %s: %w", clip([]byte(next)), id, sfsync.ErrPermanent)
		}
	}
	var l resultPagesList
	err := c.do(ctx, &call{
		method:  http.MethodGet,
		path:    path,
		query:   query,
		what:    "list result pages of bulk job " + id,
		object:  object,
		decoder: jsonInto(&l),
	})
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// fetchParallel hands every record of a complete job to add (which must
// be safe for concurrent use), fetching up to ResultStreams result pages
// at once. A server that answers 404 to the first list is remembered and
// reported as errNoResultPages before any record was handed on.
func (c *Client) fetchParallel(ctx context.Context, w sfsync.Window, id string, add func(sfsync.Record) error) error {
	object := w.Object.Name
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make(chan struct{}, c.bulk.ResultStreams)
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	fail := func(err error) {
		errOnce.Do(func() {
			firstErr = err
			cancel()
		})
	}
	next, n := "", 0
	for lists := 1; ; lists++ {
		l, err := c.listResultPages(ctx, object, id, next)
		var apiErr *APIError
		if lists == 1 && errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
			c.noResultPages.Store(true)
			return errNoResultPages
		}
		if err != nil {
			fail(err)
			break
		}
		if len(l.Pages) == 0 && l.next() != "" {
			fail(fmt.Errorf("result pages of %s job %s: list %d is empty but not the last: %w", object, id, lists, sfsync.ErrPermanent))
			break
		}
		for _, link := range l.Pages {
			n++
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			wg.Add(1)
			go func(n int, link string) {
				defer wg.Done()
				defer func() { <-slots }()
				page := &resultPage{link: link}
				if err := c.fetchResults(ctx, object, id, n, page, newResultReader(), newCSVDecoder(object, w.Fields), add); err != nil {
					fail(err)
				}
			}(n, string(link))
		}
		if next = l.next(); next == "" || ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
