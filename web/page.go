package web

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/orchestrator"
)

//go:embed page.html
var pageHTML string

// pageTemplate parses the status page's template; it is embedded, so a
// parse error is a build defect caught by the tests.
func pageTemplate() *template.Template {
	return template.Must(template.New("page").Parse(pageHTML))
}

// pageData is what the status page shows.
type pageData struct {
	Now       string
	Ready     bool
	Usage     string
	OverShare bool
	Budget    string
	Warehouse string
	Problem   string
	Objects   []pageObject
	Runs      []pageRun
	Chart     chart
}

type pageObject struct {
	Name, State, Outcome       string
	Running                    bool
	Progress                   string
	Rows                       string
	Cursor, Lag                string
	LastRun, NextRun, Schedule string
	Detail                     string
	DetailIsError              bool
}

type pageRun struct {
	Started, Object, Status             string
	Extracted, Upserted, Deleted, Calls string
	Jobs                                string
	Duration, Detail                    string
	Full                                bool
}

func (h *handler) page(w http.ResponseWriter, _ *http.Request) {
	now := h.now()
	svc := h.svc.Service()
	d := pageData{Now: fmtTime(now), Ready: svc.Ready, Budget: percent(svc.BudgetShare)}
	u := svc.Usage
	if u.Max > 0 {
		d.Usage = fmt.Sprintf("%d of %d (%s)", u.Used, u.Max, percent(u.Share()))
		d.OverShare = u.Share() > svc.BudgetShare
	} else {
		d.Usage = "not known yet"
	}
	switch {
	case svc.WarehouseProblem != "":
		d.Warehouse = "waiting"
		d.Problem = svc.WarehouseProblem
	case svc.WarehouseOpen:
		d.Warehouse = fmt.Sprintf("open, %d of %d runs active", svc.Active, svc.Parallelism)
	default:
		d.Warehouse = "closed between runs (free to query)"
	}
	for _, v := range h.svc.Objects() {
		d.Objects = append(d.Objects, pageObjectOf(v, now))
	}
	runs, err := h.svc.Runs("", 500)
	if err != nil {
		h.log.Warn("read runs for the status page", "err", err)
	}
	for i, r := range runs {
		if i == 25 {
			break
		}
		d.Runs = append(d.Runs, pageRunOf(r))
	}
	d.Chart = buildChart(runs)
	var buf bytes.Buffer
	if err := pageTemplate().Execute(&buf, d); err != nil {
		h.log.Error("render the status page", "err", err)
		http.Error(w, "render the status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func pageObjectOf(v orchestrator.ObjectView, now time.Time) pageObject {
	p := pageObject{Name: v.Object, State: string(v.State), Outcome: string(v.Outcome), Running: v.Running,
		Rows: strconv.FormatInt(v.Rows, 10), Cursor: "-", Lag: "-", LastRun: "-", NextRun: "-", Schedule: v.Schedule}
	if p.Outcome == "" {
		p.Outcome = "-"
	}
	if v.Running {
		p.Progress = fmt.Sprintf("%d records", v.Extracted)
		if v.Estimate >= 0 {
			p.Progress = fmt.Sprintf("%d of ~%d records", v.Extracted, v.Estimate)
		}
	}
	if !v.Cursor.Time.IsZero() {
		p.Cursor = fmtTime(v.Cursor.Time)
		p.Lag = fmtDuration(v.Lag(now))
	}
	if v.LastRun != nil {
		p.LastRun = fmtTime(v.LastRun.StartedAt)
	}
	if !v.Running {
		if v.DueAt.IsZero() || !v.DueAt.After(now) {
			p.NextRun = "now"
		} else {
			p.NextRun = fmtTime(v.DueAt) + " (in " + fmtDuration(v.DueAt.Sub(now)) + ")"
		}
	}
	switch {
	case v.Error != "" && (v.State == orchestrator.StateFailed || v.State == orchestrator.StateRetrying || v.Outcome == sfsync.RunFailed):
		p.Detail, p.DetailIsError = v.Error, true
	case v.Reason != "":
		p.Detail = v.Reason
	case v.Error != "":
		p.Detail = v.Error
	}
	return p
}

func pageRunOf(r sfsync.Run) pageRun {
	p := pageRun{Started: fmtTime(r.StartedAt), Object: r.Object, Status: string(r.Status), Full: r.Full,
		Extracted: strconv.FormatInt(r.RowsExtracted, 10), Upserted: strconv.FormatInt(r.RowsUpserted, 10),
		Deleted: strconv.FormatInt(r.RowsDeleted, 10), Calls: strconv.FormatInt(r.APICalls, 10),
		Jobs: strconv.FormatInt(r.BulkJobs, 10), Duration: "-"}
	if !r.FinishedAt.IsZero() && !r.StartedAt.IsZero() {
		p.Duration = fmtDuration(r.FinishedAt.Sub(r.StartedAt))
	}
	p.Detail = r.Reason
	if r.Status == sfsync.RunFailed {
		p.Detail = r.Error
	}
	return p
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// fmtDuration rounds for reading: 850ms, 12s, 3m05s, 2h14m, 3d4h.
func fmtDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		d = d.Round(time.Hour)
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

func percent(share float64) string {
	return strconv.FormatFloat(math.Round(share*1000)/10, 'f', -1, 64) + "%"
}

// chart is an SVG plot of records synced per run over time, one series
// per object.
type chart struct {
	Width, Height          int
	Left, Right, Top, Base float64 // plot area
	LegendX                float64
	Series                 []series
	YTicks, XTicks         []tick
}

type series struct {
	Name, Color string
	Points      string // polyline points
	Dots        []dot
	LegendY     float64
}

type dot struct {
	X, Y   float64
	Title  string
	Failed bool
}

type tick struct {
	Pos   float64
	Label string
}

// palette colours series in turn; chosen to stay apart for common colour
// vision deficiencies.
func palette() []string {
	return []string{"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"}
}

func buildChart(runs []sfsync.Run) chart {
	c := chart{Width: 860, Height: 260, Left: 70, Right: 700, Top: 16, Base: 220, LegendX: 720}
	var lo, hi time.Time
	var top int64
	byObject := map[string][]sfsync.Run{}
	var names []string
	for _, r := range runs {
		if r.StartedAt.IsZero() {
			continue
		}
		if _, ok := byObject[r.Object]; !ok {
			names = append(names, r.Object)
		}
		byObject[r.Object] = append(byObject[r.Object], r)
		if lo.IsZero() || r.StartedAt.Before(lo) {
			lo = r.StartedAt
		}
		if r.StartedAt.After(hi) {
			hi = r.StartedAt
		}
		top = max(top, r.RowsExtracted)
	}
	if len(names) == 0 {
		return c
	}
	sort.Strings(names)
	yMax := niceCeil(top)
	span := hi.Sub(lo)
	if span <= 0 {
		span = time.Minute
		lo = lo.Add(-span / 2)
	}
	x := func(t time.Time) float64 {
		return round1(c.Left + (c.Right-c.Left)*float64(t.Sub(lo))/float64(span))
	}
	y := func(v int64) float64 { return round1(c.Base - (c.Base-c.Top)*float64(v)/float64(yMax)) }
	for i := 0; i <= 4; i++ {
		v := yMax * int64(i) / 4
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: strconv.FormatInt(v, 10)})
	}
	layout := "2006-01-02"
	switch {
	case span < 10*time.Second:
		layout = "15:04:05.000"
	case span < time.Hour:
		layout = "15:04:05"
	case span < 48*time.Hour:
		layout = "01-02 15:04"
	}
	for i := 0; i <= 3; i++ {
		t := lo.Add(span * time.Duration(i) / 3)
		c.XTicks = append(c.XTicks, tick{Pos: x(t), Label: t.UTC().Format(layout)})
	}
	colors := palette()
	for i, name := range names {
		rs := byObject[name]
		sort.Slice(rs, func(a, b int) bool { return rs[a].StartedAt.Before(rs[b].StartedAt) })
		s := series{Name: name, Color: colors[i%len(colors)], LegendY: c.Top + float64(i)*18}
		var pts bytes.Buffer
		for _, r := range rs {
			d := dot{X: x(r.StartedAt), Y: y(r.RowsExtracted), Failed: r.Status == sfsync.RunFailed,
				Title: fmt.Sprintf("%s %s: %d records, %s", name, fmtTime(r.StartedAt), r.RowsExtracted, r.Status)}
			fmt.Fprintf(&pts, "%g,%g ", d.X, d.Y)
			s.Dots = append(s.Dots, d)
		}
		s.Points = pts.String()
		c.Series = append(c.Series, s)
	}
	return c
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 10).
func niceCeil(v int64) int64 {
	if v <= 10 {
		return 10
	}
	p := int64(1)
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
