package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/orchestrator"
)

// metrics writes the Prometheus text exposition format (version 0.0.4).
func (h *handler) metrics(w http.ResponseWriter, _ *http.Request) {
	var b bytes.Buffer
	writeMetrics(&b, h.svc.Service(), h.svc.Objects(), h.svc.Metrics(), h.now)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

// promWriter writes metric families.
type promWriter struct{ b *bytes.Buffer }

func (p promWriter) family(name, typ, help string) {
	fmt.Fprintf(p.b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func (p promWriter) sample(name string, value float64, labels ...string) {
	p.b.WriteString(name)
	if len(labels) > 0 {
		p.b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				p.b.WriteByte(',')
			}
			fmt.Fprintf(p.b, "%s=\"%s\"", labels[i], escapeLabel(labels[i+1]))
		}
		p.b.WriteByte('}')
	}
	p.b.WriteByte(' ')
	p.b.WriteString(formatValue(value))
	p.b.WriteByte('\n')
}

func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func writeMetrics(b *bytes.Buffer, svc orchestrator.ServiceView, objects []orchestrator.ObjectView, m orchestrator.Metrics, now func() time.Time) {
	p := promWriter{b: b}
	t := now()
	byName := map[string]orchestrator.ObjectMetrics{}
	for _, om := range m.Objects {
		byName[om.Object] = om
	}

	p.family("sfsync_records_synced_total", "counter", "Records extracted and consolidated by finished runs since the service started.")
	for _, v := range objects {
		p.sample("sfsync_records_synced_total", float64(byName[v.Object].RecordsSynced), "object", v.Object)
	}
	p.family("sfsync_rows_upserted_total", "counter", "Final rows inserted or updated by finished runs since the service started.")
	for _, v := range objects {
		p.sample("sfsync_rows_upserted_total", float64(byName[v.Object].RowsUpserted), "object", v.Object)
	}
	p.family("sfsync_rows_deleted_total", "counter", "Final rows deleted or flagged deleted by finished runs since the service started.")
	for _, v := range objects {
		p.sample("sfsync_rows_deleted_total", float64(byName[v.Object].RowsDeleted), "object", v.Object)
	}
	p.family("sfsync_runs_total", "counter", "Finished runs by outcome since the service started (objects held back by the API budget count as partial).")
	for _, v := range objects {
		for _, outcome := range []sfsync.RunStatus{sfsync.RunComplete, sfsync.RunPartial, sfsync.RunFailed} {
			p.sample("sfsync_runs_total", float64(byName[v.Object].Runs[outcome]), "object", v.Object, "outcome", string(outcome))
		}
	}
	p.family("sfsync_lag_seconds", "gauge", "Seconds between now and the object's cursor (absent before the first commit).")
	for _, v := range objects {
		if lag := v.Lag(t); lag >= 0 {
			p.sample("sfsync_lag_seconds", lag.Seconds(), "object", v.Object)
		}
	}
	p.family("sfsync_rows", "gauge", "Live rows in the object's final table, as of its latest run.")
	for _, v := range objects {
		p.sample("sfsync_rows", float64(v.Rows), "object", v.Object)
	}
	p.family("sfsync_object_state", "gauge", "1 for the state the object is in, 0 for the others.")
	for _, v := range objects {
		for _, s := range orchestrator.States() {
			val := 0.0
			if v.State == s {
				val = 1
			}
			p.sample("sfsync_object_state", val, "object", v.Object, "state", string(s))
		}
	}
	p.family("sfsync_object_failed_attempts", "gauge", "Failed runs in a row.")
	for _, v := range objects {
		p.sample("sfsync_object_failed_attempts", float64(v.Attempt), "object", v.Object)
	}

	p.family("sfsync_run_duration_seconds", "histogram", "How long runs took.")
	for _, v := range objects {
		om := byName[v.Object]
		if len(om.DurationCounts) != len(m.Buckets)+1 {
			continue
		}
		for i, le := range m.Buckets {
			p.sample("sfsync_run_duration_seconds_bucket", float64(om.DurationCounts[i]), "object", v.Object, "le", formatValue(le))
		}
		count := om.DurationCounts[len(m.Buckets)]
		p.sample("sfsync_run_duration_seconds_bucket", float64(count), "object", v.Object, "le", "+Inf")
		p.sample("sfsync_run_duration_seconds_sum", om.DurationSum, "object", v.Object)
		p.sample("sfsync_run_duration_seconds_count", float64(count), "object", v.Object)
	}

	u := svc.Usage
	if u.Max > 0 {
		p.family("sfsync_api_requests_used", "gauge", "API requests the org used in its rolling 24 hours, as last reported.")
		p.sample("sfsync_api_requests_used", float64(u.Used))
		p.family("sfsync_api_requests_limit", "gauge", "The org's daily API request allowance.")
		p.sample("sfsync_api_requests_limit", float64(u.Max))
		p.family("sfsync_api_usage_ratio", "gauge", "Share of the org's daily API allowance used.")
		p.sample("sfsync_api_usage_ratio", u.Share())
	}
	p.family("sfsync_api_calls_total", "counter", "API calls this process made.")
	p.sample("sfsync_api_calls_total", float64(u.Calls))
	p.family("sfsync_api_budget_ratio", "gauge", "Share of the org's daily API allowance above which no work starts.")
	p.sample("sfsync_api_budget_ratio", svc.BudgetShare)
	p.family("sfsync_active_runs", "gauge", "Objects running now.")
	p.sample("sfsync_active_runs", float64(svc.Active))
	up := 0.0
	if svc.Ready {
		up = 1
	}
	p.family("sfsync_ready", "gauge", "1 once the service has read its state and runs objects.")
	p.sample("sfsync_ready", up)
}
