package orchestrator

import (
	"slices"

	"github.com/sfsync/sfsync"
)

// durationBuckets are the upper bounds, in seconds, of the run duration
// histogram.
var durationBuckets = []float64{1, 5, 15, 60, 300, 900, 3600, 4 * 3600}

// Metrics are the service's counters since it started, for /metrics.
type Metrics struct {
	// Buckets are the upper bounds (seconds) of the duration histograms;
	// +Inf is implied.
	Buckets []float64
	Objects []ObjectMetrics
}

// ObjectMetrics are one object's counters since the service started.
type ObjectMetrics struct {
	Object string
	// RecordsSynced counts records extracted and consolidated by finished
	// runs; RowsUpserted and RowsDeleted what they changed.
	RecordsSynced, RowsUpserted, RowsDeleted int64
	// Runs counts finished runs by outcome (complete, partial, failed),
	// objects held back by the API budget included (partial).
	Runs map[sfsync.RunStatus]int64
	// DurationCounts[i] counts runs that took at most Buckets[i] seconds;
	// the last element counts every run (+Inf). DurationSum is their total
	// time in seconds.
	DurationCounts []int64
	DurationSum    float64
}

type metrics struct {
	byName map[string]*ObjectMetrics
	order  []string
}

func (m *metrics) init(objects []*object) {
	m.byName = map[string]*ObjectMetrics{}
	for _, o := range objects {
		m.order = append(m.order, o.name)
		m.byName[o.name] = &ObjectMetrics{Object: o.name,
			Runs:           map[sfsync.RunStatus]int64{sfsync.RunComplete: 0, sfsync.RunPartial: 0, sfsync.RunFailed: 0},
			DurationCounts: make([]int64, len(durationBuckets)+1)}
	}
}

// record counts a finished run; ran is false for an object held back
// before it started, which has no duration.
func (m *metrics) record(object string, run sfsync.Run, ran bool) {
	om := m.byName[object]
	if om == nil {
		return
	}
	om.Runs[run.Status]++
	if run.Status == sfsync.RunComplete || run.Status == sfsync.RunPartial {
		om.RecordsSynced += run.RowsExtracted
	}
	om.RowsUpserted += run.RowsUpserted
	om.RowsDeleted += run.RowsDeleted
	if !ran || run.FinishedAt.IsZero() {
		return
	}
	secs := max(run.FinishedAt.Sub(run.StartedAt).Seconds(), 0)
	om.DurationSum += secs
	for i, b := range durationBuckets {
		if secs <= b {
			om.DurationCounts[i]++
		}
	}
	om.DurationCounts[len(durationBuckets)]++
}

// Metrics returns a copy of the service's counters.
func (r *Runner) Metrics() Metrics {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Metrics{Buckets: slices.Clone(durationBuckets)}
	for _, name := range r.metrics.order {
		om := *r.metrics.byName[name]
		runs := make(map[sfsync.RunStatus]int64, len(om.Runs))
		for k, v := range om.Runs {
			runs[k] = v
		}
		om.Runs = runs
		om.DurationCounts = slices.Clone(om.DurationCounts)
		out.Objects = append(out.Objects, om)
	}
	return out
}
