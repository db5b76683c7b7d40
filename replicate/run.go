package replicate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/sfsync"
)

// earliest is the lower bound used when a window with an open start must be
// split: no Salesforce record is older.
var earliest = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)

// objectRun is the state of one object's run.
type objectRun struct {
	r    *Replicator
	spec ObjectSpec
	full bool
	run  sfsync.Run
	log  *slog.Logger

	table  sfsync.Table
	before sfsync.Cursor

	stager   sfsync.Stager
	batch    sfsync.Batch
	batches  int             // batches opened in this run
	staged   int             // rows in the open batch
	safe     time.Time       // greatest checkpoint the source reported: all before it is staged
	inflight chan error      // the batch consolidating in the background, if any
	ctx      context.Context // the run's context, for background consolidation

	mu        sync.Mutex // guards committed, broken and the run's commit counters
	committed int        // batches consolidated in this run
	broken    bool       // a consolidation failed: no later batch may commit a cursor past it
}

func (o *objectRun) execute(ctx context.Context) error {
	o.ctx = ctx
	src, wh := o.r.opts.Source, o.r.opts.Warehouse
	obj, err := src.Describe(ctx, o.spec.Name)
	if err != nil {
		return fmt.Errorf("describe %s: %w", o.spec.Name, err)
	}
	o.table = sfsync.Table{
		Object:      obj.Name,
		Fields:      obj.ReplicatedFields(o.spec.Include, o.spec.Exclude),
		CursorField: obj.CursorField(),
	}
	if f, ok := obj.Field("IsDeleted"); ok && f.Type == sfsync.TypeBoolean {
		o.table.DeletedField = f.Name
	}
	if o.table.CursorField == "" {
		o.full = true // nothing to filter by: every run is a full refresh
		o.run.Full = true
	}
	if err := wh.EnsureTable(ctx, o.table); err != nil {
		return fmt.Errorf("prepare tables for %s: %w", obj.Name, err)
	}
	if err := wh.CleanStaging(ctx, obj.Name, o.r.opts.StagingRetention); err != nil {
		return fmt.Errorf("clean staging for %s: %w", obj.Name, err)
	}
	cursor, err := wh.Cursor(ctx, obj.Name)
	if err != nil {
		return fmt.Errorf("read cursor of %s: %w", obj.Name, err)
	}
	o.before = cursor
	o.run.CursorBefore = cursor.Time
	o.run.CursorAfter = cursor.Time

	// The window reads up to "now" with an open end. The source's clock
	// before the query is a safe cursor once the window is read: every
	// record stamped before it and visible then is in the result (later
	// commits stamped before it are late commits, which the lookback covers).
	started, err := src.Now(ctx)
	if err != nil {
		return fmt.Errorf("read source clock: %w", err)
	}
	started = started.UTC().Truncate(time.Second)
	w := sfsync.Window{
		Object:         obj,
		Fields:         o.table.Fields,
		CursorField:    o.table.CursorField,
		IncludeDeleted: true,
		Filter:         o.spec.Filter,
		PageSize:       o.r.opts.PageSize,
	}
	if w.CursorField != "" && !o.full && !cursor.Time.IsZero() {
		w.From = cursor.Time.Add(-o.r.opts.Lookback)
	}
	o.run.WindowFrom, o.run.WindowTo = w.From, started

	total, err := src.Count(ctx, w)
	if err != nil {
		if errors.Is(err, sfsync.ErrAPILimit) || ctx.Err() != nil {
			return named(err, "count", obj.Name)
		}
		o.log.Warn("count failed; progress has no total", "err", err)
		total = -1
	}
	if p := o.r.opts.Progress; p != nil {
		p.Start(obj.Name, total)
	}
	o.log.Info("extract", "from", w.From, "to", w.To, "full", o.full, "estimate", total)

	err = o.extract(ctx, w)
	if werr := o.wait(); err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	final := sfsync.Cursor{Field: o.table.CursorField, Time: started}
	if o.safe.After(final.Time) {
		final.Time = o.safe
	}
	if err := o.checkpoint(ctx, final, o.full); err != nil {
		return err
	}
	// Consumed staging rows go now (the next run would drop them anyway);
	// a failure here loses nothing.
	if err := wh.CleanStaging(ctx, obj.Name, o.r.opts.StagingRetention); err != nil {
		o.log.Warn("clean staging after the run", "err", err)
	}
	return nil
}

// extract pages through w, staging every record. QUERY_TIMEOUT halves the
// rest of the window; INVALID_QUERY_LOCATOR commits what is staged and
// restarts from there.
func (o *objectRun) extract(ctx context.Context, w sfsync.Window) error {
	queue := []sfsync.Window{w}
	splits, restarts := 0, 0
	for len(queue) > 0 {
		cur := queue[0]
		var lastSafe time.Time // checkpoint reached inside cur
		o.log.Debug("extracting", "phase", "extract", "from", cur.From, "to", cur.To)
		err := o.r.opts.Source.Extract(ctx, cur, func(ctx context.Context, p *sfsync.Page) error {
			return o.stage(ctx, p, &lastSafe)
		})
		switch {
		case err == nil:
			queue = queue[1:]
		case errors.Is(err, sfsync.ErrQueryTimeout) && cur.CursorField != "" && splits < o.r.opts.MaxSplits:
			lo := cur.From
			if lastSafe.After(lo) {
				lo = lastSafe
			}
			if lo.IsZero() {
				lo = earliest
			}
			hi := cur.To
			var tail []sfsync.Window
			if hi.IsZero() {
				// An open window is closed at the source's clock; the rest
				// becomes an open tail.
				now, nerr := o.r.opts.Source.Now(ctx)
				if nerr != nil {
					return fmt.Errorf("extract %s: %w", o.table.Object, err)
				}
				hi = now.UTC().Truncate(time.Second)
				t := cur
				t.From, t.To = hi, time.Time{}
				tail = append(tail, t)
			}
			mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
			if !mid.After(lo) || !hi.After(mid) {
				return fmt.Errorf("extract %s: window [%s, %s) cannot be split further: %w", o.table.Object, lo.Format(time.RFC3339), hi.Format(time.RFC3339), err)
			}
			splits++
			a, b := cur, cur
			a.From, a.To = lo, mid
			b.From, b.To = mid, hi
			o.log.Warn("query timed out; splitting the window", "from", lo, "mid", mid, "to", hi)
			next := append([]sfsync.Window{a, b}, tail...)
			queue = append(next, queue[1:]...)
		case errors.Is(err, sfsync.ErrInvalidLocator) && restarts < o.r.opts.MaxRestarts:
			restarts++
			if cur.CursorField == "" || o.full {
				// No committed point inside a full refresh: start it over.
				o.abortBatch()
				o.run.RowsExtracted = 0
				o.log.Warn("query locator invalid; restarting the full refresh")
				continue
			}
			if err := o.checkpoint(ctx, sfsync.Cursor{Field: o.table.CursorField, Time: o.safe}, false); err != nil {
				return err
			}
			if lastSafe.After(cur.From) {
				cur.From = lastSafe
			}
			queue[0] = cur
			o.log.Warn("query locator invalid; restarting from the last committed point", "from", cur.From)
		default:
			return named(err, "extract", o.table.Object)
		}
	}
	return nil
}

// stage lands one page in the open batch and checkpoints when the batch is
// full and the source has reported a checkpoint: every record before it has
// been staged, so it is a safe, tie-safe cursor (the next window starts at
// it, inclusive). Inside a Bulk job, whose records come in no order, no
// page carries a checkpoint: the job's records form one batch. Splitting
// it into batch_rows batches consolidated with the previous cursor was
// measured slower (1M Accounts: 16.7 s and 23 s of CPU against 12.3 s and
// 17.7 s) with a higher peak (282 MB against 247-267 MB): each
// DELETE+INSERT consolidation probes the whole final table.
func (o *objectRun) stage(ctx context.Context, p *sfsync.Page, lastSafe *time.Time) error {
	// A checkpoint counts once the page's records are staged: a page that
	// failed to stage must not be covered by a cursor the salvage after the
	// error commits. An empty page may still carry a checkpoint (a Bulk
	// range with no records): it is progress all the same.
	advance := func() {
		if p.Checkpoint.After(*lastSafe) {
			*lastSafe = p.Checkpoint
		}
		if p.Checkpoint.After(o.safe) {
			o.safe = p.Checkpoint
		}
	}
	if len(p.Records) == 0 {
		advance()
		return nil
	}
	if o.stager == nil {
		if err := o.openBatch(ctx); err != nil {
			return err
		}
	}
	o.log.Debug("staging page", "phase", "load", "rows", len(p.Records))
	if err := o.stager.Write(ctx, p.Records); err != nil {
		return fmt.Errorf("stage %s: %w", o.table.Object, err)
	}
	advance()
	o.staged += len(p.Records)
	o.run.RowsExtracted += int64(len(p.Records))
	if pr := o.r.opts.Progress; pr != nil {
		pr.Add(o.table.Object, len(p.Records))
	}
	if !o.full && o.staged >= o.r.opts.BatchRows && !o.safe.IsZero() && !p.Checkpoint.IsZero() {
		return o.checkpointAsync(sfsync.Cursor{Field: o.table.CursorField, Time: o.safe})
	}
	return nil
}

func (o *objectRun) openBatch(ctx context.Context) error {
	o.batches++
	o.batch = sfsync.Batch{
		ID:          fmt.Sprintf("%s-%d", o.run.ID, o.batches),
		RunID:       o.run.ID,
		Object:      o.table.Object,
		ExtractedAt: o.r.opts.Now().UTC(),
	}
	st, err := o.r.opts.Warehouse.Stage(ctx, o.table, o.batch)
	if err != nil {
		return fmt.Errorf("open staging batch for %s: %w", o.table.Object, err)
	}
	o.stager, o.staged = st, 0
	return nil
}

func (o *objectRun) abortBatch() {
	if o.stager != nil {
		o.stager.Abort()
		o.stager, o.staged = nil, 0
	}
}

// checkpoint closes the open batch (opening an empty one if needed, so the
// cursor still advances) and consolidates it with the cursor, after any
// batch still consolidating in the background.
func (o *objectRun) checkpoint(ctx context.Context, c sfsync.Cursor, fullRefresh bool) error {
	if err := o.wait(); err != nil {
		return err
	}
	if o.stager == nil {
		if err := o.openBatch(ctx); err != nil {
			return err
		}
	}
	st, b := o.stager, o.batch
	o.stager = nil
	return o.consolidate(ctx, st, b, c, fullRefresh)
}

// checkpointAsync hands the open batch to a background consolidation and
// returns, so extraction of the next batch overlaps it. At most one batch
// consolidates at a time, in order; its error surfaces at the next wait.
func (o *objectRun) checkpointAsync(c sfsync.Cursor) error {
	if err := o.wait(); err != nil {
		return err
	}
	st, b := o.stager, o.batch
	o.stager = nil
	done := make(chan error, 1)
	o.inflight = done
	// Not ctx: that is the source's page callback context, which ends
	// with Extract.
	runCtx := o.ctx
	go func() { done <- o.consolidate(runCtx, st, b, c, false) }()
	return nil
}

// wait waits for the background consolidation, if any.
func (o *objectRun) wait() error {
	if o.inflight == nil {
		return nil
	}
	err := <-o.inflight
	o.inflight = nil
	return err
}

// consolidate closes a batch's stager and consolidates the batch. It runs
// on the run's goroutine or, from checkpointAsync, alone in the background:
// it touches only the run's commit counters.
func (o *objectRun) consolidate(ctx context.Context, st sfsync.Stager, b sfsync.Batch, c sfsync.Cursor, fullRefresh bool) error {
	if err := st.Close(ctx); err != nil {
		st.Abort()
		// The batch's rows are gone: no cursor past them may be committed
		// in this run, not even by the salvage after an error.
		o.mu.Lock()
		o.broken = true
		o.mu.Unlock()
		return fmt.Errorf("stage %s: %w", o.table.Object, err)
	}
	if c.Time.Before(o.before.Time) {
		c.Time = o.before.Time // never move a cursor back
	}
	o.log.Debug("consolidating", "phase", "consolidate", "batch", b.ID, "cursor", c.Time)
	res, err := o.r.opts.Warehouse.Consolidate(ctx, o.table, sfsync.Consolidation{
		Batch:       b,
		Mode:        o.mode(),
		FullRefresh: fullRefresh,
		Cursor:      c,
		DropStaged:  o.r.opts.StagingRetention == 0,
	})
	if err != nil {
		o.mu.Lock()
		o.broken = true
		o.mu.Unlock()
		return fmt.Errorf("consolidate %s: %w", o.table.Object, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.committed++
	o.run.RowsUpserted += res.Upserted
	o.run.RowsDeleted += res.Deleted
	if c.Time.After(o.run.CursorAfter) {
		o.run.CursorAfter = c.Time
	}
	o.log.Debug("consolidated", "batch", b.ID, "rows", res.Staged, "upserted", res.Upserted, "deleted", res.Deleted)
	return nil
}

func (o *objectRun) mode() sfsync.DeleteMode {
	if o.spec.DeleteMode == "" {
		return sfsync.DeleteSoft
	}
	return o.spec.DeleteMode
}

// finish settles the run's status from the error execute returned. Records
// staged before an error are committed when that is safe, so the next run
// starts from there: the run is then partial; with nothing committed it is
// failed.
func (o *objectRun) finish(err error) {
	if werr := o.wait(); err == nil {
		err = werr
	}
	o.run.FinishedAt = o.r.opts.Now().UTC()
	if err == nil {
		o.run.Status = sfsync.RunComplete
		o.log.Info("complete", "rows", o.run.RowsExtracted, "upserted", o.run.RowsUpserted, "deleted", o.run.RowsDeleted, "cursor", o.run.CursorAfter)
		return
	}
	o.mu.Lock()
	broken, committedTo := o.broken, o.run.CursorAfter
	o.mu.Unlock()
	staged := o.stager != nil && o.staged > 0
	passed := !o.full && o.safe.After(committedTo) // a checkpoint beyond the committed cursor
	if (staged || passed) && o.table.Object != "" && !broken {
		// Salvage what was extracted: commit it as a plain upsert. Inside a
		// full refresh the cursor stays where it was; otherwise it moves to
		// the source's last checkpoint, even with no records staged since
		// the last commit.
		saveCtx, cancel := context.WithTimeout(context.WithoutCancel(context.Background()), time.Minute)
		c := sfsync.Cursor{Field: o.table.CursorField, Time: o.safe}
		if o.full {
			c = o.before
		}
		if cerr := o.checkpoint(saveCtx, c, false); cerr != nil {
			o.log.Error("commit extracted rows after error", "err", cerr)
		}
		cancel()
	}
	o.abortBatch()
	msg := err.Error()
	if errors.Is(err, sfsync.ErrAPILimit) && !strings.HasPrefix(msg, "API limit reached") {
		msg = "API limit reached: " + msg
	}
	// An object stopped by the API allowance is partial, never failed or
	// complete: it resumes from its cursor when the allowance returns.
	if o.committed > 0 || errors.Is(err, sfsync.ErrAPILimit) {
		o.run.Status = sfsync.RunPartial
		o.run.Reason = msg
		o.log.Warn("partial", "reason", msg, "rows", o.run.RowsExtracted, "cursor", o.run.CursorAfter)
		return
	}
	o.run.Status = sfsync.RunFailed
	o.run.Error = msg
	o.log.Error("failed", "err", msg)
}

// named prefixes err with the call and the object unless it names them
// already, as the Salesforce client's errors do.
func named(err error, call, object string) error {
	prefix := call + " " + object + ": "
	if strings.HasPrefix(err.Error(), prefix) {
		return err
	}
	return fmt.Errorf("%s%w", prefix, err)
}
