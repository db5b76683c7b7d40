package main

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/sfsync"
)

// objectProgress is what is known of one object while it runs.
type objectProgress struct {
	total   int64
	done    int64
	started time.Time
	run     *sfsync.Run
}

// progressBars draws one bar per object on a terminal, redrawn in place:
// records done of the COUNT() estimate, rate, and ETA.
type progressBars struct {
	mu      sync.Mutex
	out     io.Writer
	objects map[string]*objectProgress
	order   []string
	lines   int // lines drawn last time
	now     func() time.Time
	stop    chan struct{}
	stopped chan struct{}
}

func newProgressBars(out io.Writer) *progressBars {
	p := &progressBars{out: out, objects: map[string]*objectProgress{}, now: time.Now,
		stop: make(chan struct{}), stopped: make(chan struct{})}
	go p.loop()
	return p
}

func (p *progressBars) loop() {
	defer close(p.stopped)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.draw()
		case <-p.stop:
			p.draw()
			return
		}
	}
}

// Close draws the final state and stops redrawing.
func (p *progressBars) Close() {
	close(p.stop)
	<-p.stopped
}

func (p *progressBars) Start(object string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	op, ok := p.objects[object]
	if !ok {
		op = &objectProgress{}
		p.objects[object] = op
		p.order = append(p.order, object)
	}
	op.total, op.started = total, p.now()
}

func (p *progressBars) Add(object string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if op, ok := p.objects[object]; ok {
		op.done += int64(n)
	}
}

func (p *progressBars) Done(run sfsync.Run) {
	p.mu.Lock()
	defer p.mu.Unlock()
	op, ok := p.objects[run.Object]
	if !ok {
		op = &objectProgress{started: p.now()}
		p.objects[run.Object] = op
		p.order = append(p.order, run.Object)
	}
	r := run
	op.run = &r
}

func (p *progressBars) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	if p.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.lines)
	}
	width := 0
	for _, name := range p.order {
		width = max(width, len(name))
	}
	for _, name := range p.order {
		b.WriteString("\x1b[2K")
		b.WriteString(renderBar(name, width, p.objects[name], p.now()))
		b.WriteByte('\n')
	}
	p.lines = len(p.order)
	_, _ = io.WriteString(p.out, b.String())
}

func renderBar(name string, width int, op *objectProgress, now time.Time) string {
	const barWidth = 24
	elapsed := now.Sub(op.started).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(op.done) / elapsed
	}
	frac := 0.0
	if op.total > 0 {
		frac = min(1, float64(op.done)/float64(op.total))
	}
	if op.run != nil && op.run.Status == sfsync.RunComplete {
		frac = 1
	}
	filled := int(frac * barWidth)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled)
	line := fmt.Sprintf("%-*s %s %s", width, name, bar, countOf(op.done, op.total))
	if op.run != nil {
		return line + "  " + runSummary(*op.run)
	}
	line += fmt.Sprintf("  %s rec/s", human(int64(rate)))
	if op.total > op.done && rate > 0 {
		eta := time.Duration(float64(op.total-op.done) / rate * float64(time.Second))
		line += "  ETA " + eta.Round(time.Second).String()
	}
	return line
}

func countOf(done, total int64) string {
	if total < 0 {
		return human(done)
	}
	return human(done) + "/" + human(total)
}

// runSummary is the one-line outcome of a run.
func runSummary(r sfsync.Run) string {
	switch r.Status {
	case sfsync.RunComplete:
		return fmt.Sprintf("complete: %d upserted, %d deleted, cursor %s", r.RowsUpserted, r.RowsDeleted, fmtTime(r.CursorAfter))
	case sfsync.RunPartial:
		return fmt.Sprintf("partial: %s (cursor %s)", r.Reason, fmtTime(r.CursorAfter))
	default:
		return "failed: " + r.Error
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// human renders n with thousands separators.
func human(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// progressLog reports progress as plain log lines, for logs and pipes: one
// line per object at most every interval, and one when it finishes.
type progressLog struct {
	mu       sync.Mutex
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time
	objects  map[string]*objectProgress
	last     map[string]time.Time
}

func newProgressLog(log *slog.Logger, interval time.Duration) *progressLog {
	return &progressLog{log: log, interval: interval, now: time.Now,
		objects: map[string]*objectProgress{}, last: map[string]time.Time{}}
}

func (p *progressLog) Start(object string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.objects[object] = &objectProgress{total: total, started: p.now()}
	p.last[object] = p.now()
	p.log.Info("extracting", "object", object, "estimate", total)
}

func (p *progressLog) Add(object string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	op, ok := p.objects[object]
	if !ok {
		return
	}
	op.done += int64(n)
	if now := p.now(); now.Sub(p.last[object]) >= p.interval {
		p.last[object] = now
		rate := float64(op.done) / now.Sub(op.started).Seconds()
		p.log.Info("progress", "object", object, "rows", op.done, "estimate", op.total, "rows_per_s", int64(rate))
	}
}

func (p *progressLog) Done(run sfsync.Run) {}

// sortedNames returns the map's keys in order.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
