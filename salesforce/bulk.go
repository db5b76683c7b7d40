package salesforce

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/soql"
)

// BulkOptions tune Bulk API 2.0 extraction. Zero fields take the defaults
// in parentheses; negative ones are refused.
type BulkOptions struct {
	// JobRecords is about the most records one query job should hold
	// (1,000,000). A window holding more is split into consecutive cursor
	// ranges, or Id ranges when it has no cursor field, one job each,
	// sized with a few COUNT() queries. Bulk API 2.0
	// chunks a large job on its own side, so ranges buy overlap of one
	// job's download with the next jobs' processing and a checkpoint after
	// each range; each costs a create, a delete and its polls.
	JobRecords int64
	// Concurrency is how many jobs of one window run at once (3). Their
	// results are still delivered one range after the other.
	Concurrency int
	// PollInterval is the shortest pause before polling a job (250ms);
	// it doubles after every poll up to MaxPollInterval (5s) or a quarter
	// of the job's age, whichever is longer. The first poll of a job waits
	// longer when earlier jobs show it cannot be done sooner.
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	// JobTimeout bounds the wait for one job (2h); a job still running
	// then is aborted. A job of this user left queued or running longer
	// than this by a process that died is aborted and deleted by the next
	// extraction of its object.
	JobTimeout time.Duration
	// JobAttempts is how many jobs are tried for one range when a job
	// fails, is aborted by someone else or times out (3).
	JobAttempts int
	// ResultRecords is the maxRecords of each results request (50,000).
	ResultRecords int
	// ResultStreams is how many result pages of one job are downloaded
	// at once (1: one after the other, following locators). Above 1, and
	// with API version 58.0 or later, the pages are listed through the
	// job's resultPages resource, five per list (one more call per five
	// pages), and fetched in parallel; a server without that resource
	// (404) is read one page after the other.
	ResultStreams int
	// PageRecords is the most records in one delivered page (2,000, REST's
	// default page). Decoded records are the largest share of sfsync's own
	// heap, and about three pages are alive at once (one being decoded,
	// one handed over, one being staged): pages of 10,000 put 17-40 MiB
	// more on the peak RSS of a 5M-record run, for no measurable speed.
	PageRecords int
}

func (o BulkOptions) withDefaults() (BulkOptions, error) {
	if o.JobRecords < 0 || o.Concurrency < 0 || o.PollInterval < 0 || o.MaxPollInterval < 0 ||
		o.JobTimeout < 0 || o.JobAttempts < 0 || o.ResultRecords < 0 || o.PageRecords < 0 || o.ResultStreams < 0 {
		return o, errors.New("bulk options: counts and durations must not be negative")
	}
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	defDur := func(v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		return v
	}
	if o.JobRecords == 0 {
		o.JobRecords = 1_000_000
	}
	o.Concurrency = def(o.Concurrency, 3)
	o.PollInterval = defDur(o.PollInterval, 250*time.Millisecond)
	o.MaxPollInterval = max(defDur(o.MaxPollInterval, 5*time.Second), o.PollInterval)
	o.JobTimeout = defDur(o.JobTimeout, 2*time.Hour)
	o.JobAttempts = def(o.JobAttempts, 3)
	o.ResultRecords = def(o.ResultRecords, 50_000)
	o.PageRecords = def(o.PageRecords, 2_000)
	o.ResultStreams = def(o.ResultStreams, 1)
	return o, nil
}

// BulkJobs returns how many Bulk API 2.0 query jobs this client has
// created. Each counts against the org's daily job allowance.
func (c *Client) BulkJobs() int64 { return c.bulkJobs.Load() }

// Extract calls fn with each page of the window, in order, decoded by the
// describe into Records laid out as w.Fields. Small windows are read with
// REST queryAll; a window whose COUNT() exceeds Options.BulkThreshold goes
// through Bulk API 2.0 query jobs instead, unless Bulk cannot serve it (a
// base64 field, or an object or field Bulk refused before), and falls back
// to REST when Bulk refuses the query. Both paths deliver the same values.
//
// REST pages are ordered by the cursor field and carry a Checkpoint. Bulk
// results are unordered, so a Bulk window is read as consecutive cursor
// ranges, one job each: pages inside a range have no Checkpoint, and the
// last page of a range carries the range's end (none for an open end). A
// window without a cursor field is read as consecutive Id ranges, without
// Checkpoints.
//
// Every job Extract creates is aborted if needed and deleted before it
// returns, whether it succeeds, fails or is cancelled. Before a Bulk
// extraction creates jobs, it deletes those of the same object that an
// earlier extraction by the same user left behind when its process died
// (see sweepJobs).
func (c *Client) Extract(ctx context.Context, w sfsync.Window, fn func(context.Context, *sfsync.Page) error) error {
	if w.Object == nil {
		return fmt.Errorf("extract: the window has no object: %w", sfsync.ErrPermanent)
	}
	total, bulk, err := c.chooseBulk(ctx, w)
	if err != nil {
		return err
	}
	if !bulk {
		return c.extractREST(ctx, w, fn)
	}
	return c.extractBulk(ctx, w, total, fn)
}

// chooseBulk decides the path of a window and returns its COUNT() when it
// took one (-1 otherwise).
func (c *Client) chooseBulk(ctx context.Context, w sfsync.Window) (int64, bool, error) {
	if c.bulkThreshold == 0 {
		return -1, false, nil
	}
	for _, f := range w.Fields {
		if f.Type == sfsync.TypeBase64 {
			c.log.Debug("extracting with REST: Bulk queries do not support base64 fields", "object", w.Object.Name, "field", f.Name)
			return -1, false, nil
		}
	}
	if c.bulkRefused(w) {
		c.log.Debug("extracting with REST: the Bulk API refused this query before", "object", w.Object.Name)
		return -1, false, nil
	}
	n, ok := c.recentCount(w)
	if !ok {
		var err error
		if n, err = c.Count(ctx, w); err != nil {
			return 0, false, err
		}
	}
	if c.bulkThreshold > 0 && n <= c.bulkThreshold {
		return n, false, nil
	}
	return n, true, nil
}

// refusalKey names what Bulk refused: the object with the selected fields.
func refusalKey(w sfsync.Window) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(w.Object.Name))
	for _, f := range w.Fields {
		b.WriteByte(',')
		b.WriteString(strings.ToLower(f.Name))
	}
	return b.String()
}

func (c *Client) bulkRefused(w sfsync.Window) bool {
	c.noBulkMu.Lock()
	defer c.noBulkMu.Unlock()
	return c.noBulk[refusalKey(w)]
}

func (c *Client) refuseBulk(w sfsync.Window) {
	c.noBulkMu.Lock()
	defer c.noBulkMu.Unlock()
	c.noBulk[refusalKey(w)] = true
}

// bulkRange is one job's part of a window: [from, to) on the cursor field,
// a zero time leaving that side open; or, for a window without a cursor
// field, [fromID, toID) on Id, an empty Id leaving that side open.
type bulkRange struct {
	from, to     time.Time
	fromID, toID string
	count        int64 // estimated records
}

// extractBulk reads w through query jobs, falling back to REST for the
// rest of the window when Bulk refuses the query.
func (c *Client) extractBulk(ctx context.Context, w sfsync.Window, total int64, fn func(context.Context, *sfsync.Page) error) error {
	if _, err := soql.WindowQuery(w); err != nil {
		return fmt.Errorf("extract: %w: %w", err, sfsync.ErrPermanent)
	}
	if _, err := c.sweepJobs(ctx, w.Object.Name); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("bulk extract %s: %w", w.Object.Name, ctx.Err())
		}
		c.log.Warn("could not look for Bulk jobs left behind", "object", w.Object.Name, "err", err.Error())
	}
	var ranges []bulkRange
	var err error
	if w.CursorField == "" {
		ranges, err = c.planIDRanges(ctx, w, total)
	} else {
		ranges, err = c.planRanges(ctx, w, total)
	}
	if err != nil {
		return err
	}
	done, err := c.runBulk(ctx, w, ranges, total, fn)
	var refused *refusedError
	if !errors.As(err, &refused) {
		return err
	}
	c.refuseBulk(w)
	rest := w
	if done > 0 {
		rest.From = ranges[done].from
		if id := ranges[done].fromID; id != "" {
			rest.Filter = andCondition(w.Filter, "Id >= "+soql.Quote(id))
		}
	}
	c.log.Info("the Bulk API refused the query; extracting with REST", "object", w.Object.Name, "reason", err.Error())
	return c.extractREST(ctx, rest, fn)
}

// bulkStatement is the SOQL of one range's job: the window's query without
// ORDER BY, which Bulk queries must not use.
func bulkStatement(w sfsync.Window, r bulkRange) (string, error) {
	b := soql.Select(w.Object, w.Fields)
	if w.CursorField != "" {
		if !r.from.IsZero() {
			b.Ge(w.CursorField, soql.DateTimeFloor(r.from))
		}
		if !r.to.IsZero() {
			b.Lt(w.CursorField, soql.DateTimeCeil(r.to))
		}
	}
	if r.fromID != "" {
		b.Ge("Id", soql.Quote(r.fromID))
	}
	if r.toID != "" {
		b.Lt("Id", soql.Quote(r.toID))
	}
	if strings.TrimSpace(w.Filter) != "" {
		b.Where(w.Filter)
	}
	q, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("bulk query for %s: %w: %w", w.Object.Name, err, sfsync.ErrPermanent)
	}
	return q, nil
}

// runBulk delivers the ranges' records to fn, in range order. A producer
// goroutine runs the jobs and decodes their results one page ahead of fn;
// runBulk waits for it. done is how many ranges were delivered whole.
func (c *Client) runBulk(ctx context.Context, w sfsync.Window, ranges []bulkRange, total int64, fn func(context.Context, *sfsync.Page) error) (done int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan *sfsync.Page)
	result := make(chan error, 1)
	go func() {
		defer close(pages)
		result <- c.produceBulk(ctx, w, ranges, total, pages, &done)
	}()
	for p := range pages {
		if err := fn(ctx, p); err != nil {
			cancel()
			for range pages {
			}
			<-result
			return done, err
		}
	}
	err = <-result
	return done, err
}

// jobRegistry holds the jobs of one extraction, for cleanup.
type jobRegistry struct {
	mu   sync.Mutex
	jobs map[string]*jobEntry
	ids  []string // in creation order
}

type jobEntry struct {
	terminal bool // known to have finished
	deleted  bool
}

func (r *jobRegistry) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs[id] = &jobEntry{}
	r.ids = append(r.ids, id)
}

func (r *jobRegistry) finished(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.jobs[id]; ok {
		e.terminal = true
	}
}

// jobResult is a range's job, complete, or why there is none.
type jobResult struct {
	id  string
	err error
}

// produceBulk runs the ranges' jobs, at most Concurrency at once, and
// streams each completed job's results as pages, in range order. Before it
// returns, every job it created is aborted if still running and deleted.
func (c *Client) produceBulk(ctx context.Context, w sfsync.Window, ranges []bulkRange, total int64, pages chan<- *sfsync.Page, done *int) error {
	reg := &jobRegistry{jobs: map[string]*jobEntry{}}
	jobCtx, stopJobs := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopJobs()
		wg.Wait()
		c.cleanupJobs(ctx, w.Object.Name, reg)
		c.releaseJobs(reg.ids)
	}()
	slots := make([]chan jobResult, len(ranges))
	for i := range slots {
		slots[i] = make(chan jobResult, 1)
	}
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots[i] <- c.runJob(jobCtx, w, ranges[i], reg)
		}()
	}
	ahead := min(c.bulk.Concurrency, len(ranges))
	for i := range ahead {
		start(i)
	}
	emit := func(p *sfsync.Page) error {
		select {
		case pages <- p:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for i, r := range ranges {
		var res jobResult
		select {
		case res = <-slots[i]:
		case <-ctx.Done():
			return fmt.Errorf("bulk extract %s: %w", w.Object.Name, ctx.Err())
		}
		if res.err != nil {
			return res.err
		}
		err := c.deliverJob(ctx, w, res.id, r, total, emit)
		c.dropJob(ctx, w.Object.Name, reg, res.id)
		if err != nil {
			return err
		}
		*done = i + 1
		if next := i + ahead; next < len(ranges) {
			start(next)
		}
	}
	return nil
}

// jobTimeoutError is a job that did not finish within JobTimeout. It
// wraps sfsync.ErrQueryTimeout, so callers split the window.
type jobTimeoutError struct {
	object, id, state string
	after             time.Duration
}

func (e *jobTimeoutError) Error() string {
	return fmt.Sprintf("bulk job %s for %s is still %s after %v", e.id, e.object, e.state, e.after)
}

func (e *jobTimeoutError) Unwrap() error { return sfsync.ErrQueryTimeout }

// runJob gets one range's job to JobComplete: create, poll, and on a
// failure, an abort by someone else or a timeout, another job, up to
// JobAttempts. A job Bulk refuses is a *refusedError.
func (c *Client) runJob(ctx context.Context, w sfsync.Window, r bulkRange, reg *jobRegistry) jobResult {
	object := w.Object.Name
	statement, err := bulkStatement(w, r)
	if err != nil {
		return jobResult{err: err}
	}
	var last error
	for attempt := 1; attempt <= c.bulk.JobAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return jobResult{err: fmt.Errorf("bulk job for %s: %w", object, err)}
		}
		job, err := c.createJob(ctx, object, statement, w.IncludeDeleted)
		if err != nil {
			if refusal(err) {
				return jobResult{err: &refusedError{err}}
			}
			return jobResult{err: err}
		}
		reg.add(job.ID)
		c.holdJob(job.ID)
		info, err := c.waitJob(ctx, object, job.ID, r.count, reg)
		if info != nil {
			info.ErrorMessage = c.scrub(info.ErrorMessage)
		}
		var timeout *jobTimeoutError
		switch {
		case errors.As(err, &timeout):
			last = err
		case err != nil:
			return jobResult{err: err}
		case info.State == jobComplete:
			return jobResult{id: job.ID}
		case info.State == jobFailed && refusalText("", info.ErrorMessage):
			return jobResult{err: &refusedError{fmt.Errorf("bulk job %s for %s failed: %s", job.ID, object, info.ErrorMessage)}}
		case info.State == jobFailed:
			msg := info.ErrorMessage
			if msg == "" {
				msg = "no reason given"
			}
			last = fmt.Errorf("bulk job %s for %s failed: %s", job.ID, object, msg)
		default:
			last = fmt.Errorf("bulk job %s for %s was aborted by someone else", job.ID, object)
		}
		c.log.Warn("bulk job did not complete", "object", object, "job", job.ID, "attempt", attempt, "err", last.Error())
		c.dropJob(ctx, object, reg, job.ID)
	}
	return jobResult{err: fmt.Errorf("%w (after %d jobs)", last, c.bulk.JobAttempts)}
}

// waitJob polls a job until it reaches a terminal state, for at most
// JobTimeout. The first poll comes after half the time a job of the
// expected size took at the latest large job's pace, at least after
// PollInterval; later ones back off from PollInterval, doubling up to
// MaxPollInterval or a quarter of the time waited so far, whichever is
// longer: a long job is polled a few times per doubling of its age, not
// every MaxPollInterval.
func (c *Client) waitJob(ctx context.Context, object, id string, expected int64, reg *jobRegistry) (*jobInfo, error) {
	start := time.Now()
	deadline := start.Add(c.bulk.JobTimeout)
	wait, next := c.firstPoll(expected), c.bulk.PollInterval
	if wait <= next {
		next = 2 * next
	}
	for {
		if err := sleep(ctx, min(wait, max(time.Until(deadline), 0))); err != nil {
			return nil, fmt.Errorf("wait for bulk job %s for %s: %w", id, object, err)
		}
		info, err := c.jobState(ctx, object, id)
		if err != nil {
			return nil, err
		}
		if terminal(info.State) {
			reg.finished(id)
			if info.State == jobComplete {
				c.learnPace(info.NumberRecordsProcessed, time.Since(start))
			}
			return info, nil
		}
		if !time.Now().Before(deadline) {
			return nil, &jobTimeoutError{object: object, id: id, state: info.State, after: c.bulk.JobTimeout}
		}
		wait = min(next, max(c.bulk.MaxPollInterval, time.Since(start)/4))
		next = 2 * wait
	}
}

// Pacing of the first poll: only jobs of at least paceRecords records
// teach a pace (a small job's time is mostly fixed overhead), and the
// first wait is at most maxFirstPoll.
const (
	paceRecords  = 10_000
	maxFirstPoll = time.Minute
)

// firstPoll is the wait before the first poll of a job of about expected
// records: half the time it would take at the pace of the latest large
// complete job, between PollInterval and maxFirstPoll.
func (c *Client) firstPoll(expected int64) time.Duration {
	c.estimateMu.Lock()
	rate := c.jobRate
	c.estimateMu.Unlock()
	wait := c.bulk.PollInterval
	if rate > 0 && expected > 0 {
		est := time.Duration(float64(expected) / rate * float64(time.Second) / 2)
		wait = max(wait, min(est, maxFirstPoll))
	}
	return wait
}

// learnPace records how fast a job of n records completed (from its
// creation to the poll that found it complete).
func (c *Client) learnPace(n int64, took time.Duration) {
	if n < paceRecords || took <= 0 {
		return
	}
	c.estimateMu.Lock()
	c.jobRate = float64(n) / took.Seconds()
	c.estimateMu.Unlock()
}

// deliverJob streams a complete job's result pages as Pages of at most
// PageRecords records. A full page is held back until the next record
// arrives, so the range's last page, which carries the range's end as its
// Checkpoint, is never empty unless the range is.
func (c *Client) deliverJob(ctx context.Context, w sfsync.Window, id string, r bulkRange, total int64, emit func(*sfsync.Page) error) error {
	object := w.Object.Name
	size := c.bulk.PageRecords
	pending := make([]sfsync.Record, 0, min(size, 1024))
	flush := func(checkpoint time.Time) error {
		p := &sfsync.Page{Records: pending, Total: total, Checkpoint: checkpoint}
		pending = make([]sfsync.Record, 0, min(size, 1024))
		return emit(p)
	}
	add := func(rec sfsync.Record) error {
		if len(pending) >= size {
			if err := flush(time.Time{}); err != nil {
				return err
			}
		}
		pending = append(pending, rec)
		return nil
	}
	if c.parallelResults() {
		var mu sync.Mutex
		err := c.fetchParallel(ctx, w, id, func(rec sfsync.Record) error {
			mu.Lock()
			defer mu.Unlock()
			return add(rec)
		})
		switch {
		case errors.Is(err, errNoResultPages):
			c.log.Info("the server has no parallel result pages; reading results one page after the other", "object", object)
		case err != nil:
			return err
		default:
			if len(pending) > 0 || !r.to.IsZero() {
				return flush(r.to)
			}
			return nil
		}
	}
	rr := newResultReader()
	d := newCSVDecoder(object, w.Fields)
	page := &resultPage{}
	for n := 1; ; n++ {
		if err := c.fetchResults(ctx, object, id, n, page, rr, d, add); err != nil {
			return err
		}
		next := page.next
		if next == "" || next == "null" {
			break
		}
		if next == page.locator {
			return fmt.Errorf("bulk results of %s job %s: page %d names itself as the next page: %w", object, id, n, sfsync.ErrPermanent)
		}
		page = &resultPage{locator: next}
	}
	if len(pending) > 0 || !r.to.IsZero() {
		return flush(r.to)
	}
	return nil
}

// dropJob aborts a job that may still run and deletes it, with a context
// that outlives the caller's.
func (c *Client) dropJob(ctx context.Context, object string, reg *jobRegistry, id string) {
	reg.mu.Lock()
	e, ok := reg.jobs[id]
	if !ok || e.deleted {
		reg.mu.Unlock()
		return
	}
	running := !e.terminal
	reg.mu.Unlock()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if running {
		if err := c.abortJob(cctx, object, id); err != nil {
			// It may have finished meanwhile; deleting tells.
			c.log.Debug("abort bulk job", "object", object, "job", id, "err", err.Error())
		}
	}
	if err := c.deleteJob(cctx, object, id); err != nil {
		c.log.Warn("bulk job left behind", "object", object, "job", id, "err", err.Error())
		return
	}
	reg.mu.Lock()
	e.deleted = true
	reg.mu.Unlock()
}

// cleanupJobs drops every job of reg not deleted yet.
func (c *Client) cleanupJobs(ctx context.Context, object string, reg *jobRegistry) {
	reg.mu.Lock()
	ids := append([]string(nil), reg.ids...)
	reg.mu.Unlock()
	for _, id := range ids {
		c.dropJob(ctx, object, reg, id)
	}
}
