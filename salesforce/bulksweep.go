package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
)

// Query jobs left behind. An extraction aborts and deletes every job it
// creates, whether it ends, fails or is cancelled; a process that dies
// without running that cleanup (kill -9, a crash, a power cut) leaves its
// jobs on the org, where they hold result files for 7 days and running
// ones keep working for nothing. Before a Bulk extraction of an object
// creates jobs, sweepJobs lists the org's query jobs (GET jobs/query,
// following nextRecordsUrl; API reference §5) and removes those that can
// only be leftovers of an earlier extraction of the same object by this
// client's user:
//
//   - created by the user the session acts as (createdById against the user
//     Id at the end of the token response's identity URL, §2.1),
//   - of the same object, operation query or queryAll,
//   - created before the sweep started (on the server's clock), and not a
//     job of an extraction of this client still under way,
//   - terminal (JobComplete, Failed, Aborted): deleted; still queued or
//     running (UploadComplete, InProgress) and older than JobTimeout, after
//     which no extraction waits for a job: aborted, then deleted.
//
// This relies on sfsync having an integration user of its own, as the
// README asks: jobs that user creates for an object are sfsync's, and only
// one sfsync extraction of an object runs at a time (leases, or one
// process per warehouse). Another user's jobs and other objects' jobs are
// never touched. A sweep that fails is logged and the extraction goes on.

// maxJobListPages bounds how many pages of the job list one sweep reads.
const maxJobListPages = 1000

// jobListPage is one page of GET jobs/query.
type jobListPage struct {
	Done           bool      `json:"done"`
	Records        []jobInfo `json:"records"`
	NextRecordsURL *string   `json:"nextRecordsUrl"`
}

// sweepAction is what a sweep does with one listed job.
type sweepAction int

const (
	sweepKeep   sweepAction = iota
	sweepDelete             // terminal: delete
	sweepAbort              // stuck: abort, then delete
)

// leftover decides what a sweep for object by user, started at cutoff on
// the server's clock, does with job j. A job of an extraction of this
// client still under way is never passed here.
func leftover(j *jobInfo, user, object string, cutoff time.Time, timeout time.Duration) sweepAction {
	if !sameID(j.CreatedByID, user) || !strings.EqualFold(j.Object, object) ||
		(j.Operation != "query" && j.Operation != "queryAll") || !validJobID(j.ID) {
		return sweepKeep
	}
	created, err := sfsync.ParseDateTime(j.CreatedDate)
	if err != nil || !created.Before(cutoff) {
		return sweepKeep
	}
	switch {
	case terminal(j.State):
		return sweepDelete
	case (j.State == jobUploadComplete || j.State == jobInProgress) && cutoff.Sub(created) > timeout:
		return sweepAbort
	}
	return sweepKeep
}

// sameID compares two record Ids in their 15- or 18-character forms: the
// first 15 characters are the Id, case-sensitively.
func sameID(a, b string) bool {
	if len(a) < 15 || len(b) < 15 {
		return false
	}
	return a[:15] == b[:15]
}

// userID returns the Id of the user the session acts as, the last segment
// of the identity URL the token endpoint answered with; "" before a login
// or when the URL carries none.
func (c *Client) userID() string {
	c.mu.RLock()
	identity := c.sess.identity
	c.mu.RUnlock()
	u, err := url.Parse(identity)
	if err != nil {
		return ""
	}
	id := path.Base(u.Path)
	if !validJobID(id) {
		return ""
	}
	return id
}

// holdJob marks a job as belonging to an extraction of this client under
// way, so that no sweep touches it; releaseJobs ends that.
func (c *Client) holdJob(id string) {
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	c.live[id] = true
}

func (c *Client) releaseJobs(ids []string) {
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	for _, id := range ids {
		delete(c.live, id)
	}
}

func (c *Client) heldJob(id string) bool {
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	return c.live[id]
}

// sweepJobs removes the query jobs of object that earlier extractions of
// this client's user left behind (see above). It returns how many it
// deleted; an error means the list could not be read, or ctx ended.
func (c *Client) sweepJobs(ctx context.Context, object string) (int, error) {
	cutoff, err := c.Now(ctx)
	if err != nil {
		return 0, err
	}
	jobs, err := c.listJobs(ctx)
	if err != nil {
		return 0, err
	}
	user := c.userID()
	if user == "" {
		c.log.Warn("cannot tell which Bulk jobs are this user's (the login answered without a user Id); jobs left behind are not cleaned up", "object", object)
		return 0, nil
	}
	deleted := 0
	for i := range jobs {
		j := &jobs[i]
		act := leftover(j, user, object, cutoff, c.bulk.JobTimeout)
		if act == sweepKeep || c.heldJob(j.ID) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
		cctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
		if act == sweepAbort {
			if err := c.abortJob(cctx, object, j.ID); err != nil {
				// It may have finished meanwhile; deleting tells.
				c.log.Debug("abort bulk job left behind", "object", object, "job", j.ID, "err", err.Error())
			}
		}
		err := c.deleteJob(cctx, object, j.ID)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return deleted, ctx.Err()
			}
			c.log.Warn("delete bulk job left behind", "object", object, "job", j.ID, "state", j.State, "err", err.Error())
			continue
		}
		deleted++
		c.log.Debug("deleted bulk job left behind", "object", object, "job", j.ID, "state", j.State, "created", j.CreatedDate)
	}
	if deleted > 0 {
		c.log.Info("deleted Bulk jobs an earlier run left behind", "object", object, "jobs", deleted)
	}
	return deleted, nil
}

// listJobs reads every page of the org's query job list.
func (c *Client) listJobs(ctx context.Context) ([]jobInfo, error) {
	var all []jobInfo
	p, query := c.apiPath+"/jobs/query", ""
	seen := map[string]bool{}
	for pages := 1; ; pages++ {
		var page jobListPage
		err := c.do(ctx, &call{
			method:  http.MethodGet,
			path:    p,
			query:   query,
			what:    "list bulk jobs",
			decoder: jsonInto(&page),
		})
		if err != nil {
			return nil, err
		}
		all = append(all, page.Records...)
		if page.Done || page.NextRecordsURL == nil || *page.NextRecordsURL == "" {
			return all, nil
		}
		next := *page.NextRecordsURL
		switch {
		case seen[next]:
			return nil, fmt.Errorf("list bulk jobs: page %d names an earlier page as the next: %w", pages, sfsync.ErrPermanent)
		case pages >= maxJobListPages:
			return nil, fmt.Errorf("list bulk jobs: more than %d pages: %w", maxJobListPages, sfsync.ErrPermanent)
		}
		seen[next] = true
		if p, query, err = splitNext(next); err != nil {
			return nil, fmt.Errorf("list bulk jobs: %w", err)
		}
		if !strings.HasPrefix(p, "/services/data/") || !strings.HasSuffix(strings.TrimSuffix(p, "/"), "/jobs/query") {
			return nil, fmt.Errorf("list bulk jobs: next page URL %q is not the job list: %w", clip([]byte(next)), sfsync.ErrPermanent)
		}
	}
}
