// Package web serves sfsync's service over HTTP: a status page rendered on
// the server (HTML with an inline SVG chart, no scripts), a JSON API to read
// object states and run history and to trigger runs, Prometheus metrics at
// /metrics and a health check at /healthz.
//
// When a token is configured every request except /healthz must carry it,
// as "Authorization: Bearer <token>" or as the password of HTTP Basic
// authentication (which browsers prompt for). Nothing served contains
// configuration or secrets: only object names, states, counts, times and
// the error texts of runs.
package web

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/orchestrator"
)

// Service is what the web interfaces show and control; the orchestrator's
// Runner implements it. Methods must be safe for concurrent use.
type Service interface {
	Service() orchestrator.ServiceView
	Objects() []orchestrator.ObjectView
	Object(name string) (orchestrator.ObjectView, bool)
	Runs(object string, limit int) ([]sfsync.Run, error)
	Trigger(object string, full bool) error
	Metrics() orchestrator.Metrics
}

// Options configure the handler. Service is required.
type Options struct {
	Service Service
	// Token, when set, is required on every request except /healthz.
	Token sfsync.Secret
	// Now is the clock lags are measured with (default time.Now).
	Now func() time.Time
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
}

// handler serves the routes.
type handler struct {
	svc   Service
	token sfsync.Secret
	now   func() time.Time
	log   *slog.Logger
	mux   *http.ServeMux
}

// New returns the HTTP handler of the service's web interfaces.
func New(opts Options) (http.Handler, error) {
	if opts.Service == nil {
		return nil, errors.New("web: a Service is required")
	}
	h := &handler{svc: opts.Service, token: opts.Token, now: opts.Now, log: opts.Logger, mux: http.NewServeMux()}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.mux.HandleFunc("GET /{$}", h.page)
	h.mux.HandleFunc("POST /objects/{object}/run", h.formTrigger(false))
	h.mux.HandleFunc("POST /objects/{object}/full-refresh", h.formTrigger(true))
	h.mux.HandleFunc("GET /api/service", h.apiService)
	h.mux.HandleFunc("GET /api/objects", h.apiObjects)
	h.mux.HandleFunc("GET /api/objects/{object}", h.apiObject)
	h.mux.HandleFunc("GET /api/objects/{object}/runs", h.apiRuns)
	h.mux.HandleFunc("GET /api/runs", h.apiRuns)
	h.mux.HandleFunc("POST /api/objects/{object}/run", h.apiTrigger(false))
	h.mux.HandleFunc("POST /api/objects/{object}/full-refresh", h.apiTrigger(true))
	h.mux.HandleFunc("GET /metrics", h.metrics)
	h.mux.HandleFunc("GET /healthz", h.healthz)
	return h, nil
}

// ServeHTTP checks the token and the origin of posts, then routes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")
	// The page has no scripts, and its buttons must not be framed by
	// another site.
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	hdr.Set("X-Frame-Options", "DENY")
	if r.URL.Path != "/healthz" && !h.authorized(r) {
		w.Header().Add("WWW-Authenticate", `Bearer realm="sfsync"`)
		w.Header().Add("WWW-Authenticate", `Basic realm="sfsync"`)
		writeError(w, http.StatusUnauthorized, "authentication required: send the configured serve.token as a bearer token")
		return
	}
	if r.Method == http.MethodPost && !sameOrigin(r) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// authorized checks the token, in constant time.
func (h *handler) authorized(r *http.Request) bool {
	if h.token.IsZero() {
		return true
	}
	var got string
	if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		got = strings.TrimSpace(auth[7:])
	} else if _, pw, ok := r.BasicAuth(); ok {
		got = pw
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(h.token.Reveal())) == 1
}

// sameOrigin refuses posts a browser sends from another site's page: their
// Origin names a different host than the request (or, behind a proxy that
// rewrites Host, than X-Forwarded-Host, which a page cannot set on a form
// post). Clients that send no Origin (curl, scripts) are judged by the
// token alone.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	fwd := r.Header.Get("X-Forwarded-Host")
	return strings.EqualFold(u.Host, r.Host) || fwd != "" && strings.EqualFold(u.Host, fwd)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// triggerStatus maps Trigger's errors to HTTP statuses.
func triggerStatus(err error) int {
	switch {
	case errors.Is(err, orchestrator.ErrUnknownObject):
		return http.StatusNotFound
	case errors.Is(err, orchestrator.ErrRunning):
		return http.StatusConflict
	case errors.Is(err, orchestrator.ErrNotReady):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (h *handler) apiTrigger(full bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("object")
		wantFull := full
		if v := r.URL.Query().Get("full"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, "full must be true or false")
				return
			}
			wantFull = wantFull || b
		}
		if err := h.svc.Trigger(name, wantFull); err != nil {
			writeError(w, triggerStatus(err), err.Error())
			return
		}
		v, _ := h.svc.Object(name)
		writeJSON(w, http.StatusAccepted, h.objectJSON(v, h.now()))
	}
}

func (h *handler) formTrigger(full bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("object")
		if err := h.svc.Trigger(name, full); err != nil {
			http.Error(w, err.Error(), triggerStatus(err))
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

func (h *handler) apiService(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, serviceJSON(h.svc.Service()))
}

func (h *handler) apiObjects(w http.ResponseWriter, _ *http.Request) {
	now := h.now()
	objs := h.svc.Objects()
	out := make([]objectJSON, 0, len(objs))
	for _, v := range objs {
		out = append(out, h.objectJSON(v, now))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) apiObject(w http.ResponseWriter, r *http.Request) {
	v, ok := h.svc.Object(r.PathValue("object"))
	if !ok {
		writeError(w, http.StatusNotFound, r.PathValue("object")+": "+orchestrator.ErrUnknownObject.Error())
		return
	}
	writeJSON(w, http.StatusOK, h.objectJSON(v, h.now()))
}

func (h *handler) apiRuns(w http.ResponseWriter, r *http.Request) {
	object := r.PathValue("object")
	if object == "" {
		object = r.URL.Query().Get("object")
	}
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit must be a whole number of at least 1")
			return
		}
		limit = n
	}
	runs, err := h.svc.Runs(object, limit)
	if err != nil {
		writeError(w, triggerStatus(err), err.Error())
		return
	}
	out := make([]runJSON, 0, len(runs))
	for _, run := range runs {
		out = append(out, toRunJSON(run))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !h.svc.Service().Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("starting\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// objectJSON is one object in the API.
type objectJSON struct {
	Object      string     `json:"object"`
	State       string     `json:"state"`
	Running     bool       `json:"running"`
	Schedule    string     `json:"schedule"`
	FullPending bool       `json:"full_refresh_pending"`
	Cursor      *time.Time `json:"cursor"`
	CursorField string     `json:"cursor_field,omitempty"`
	LagSeconds  *float64   `json:"lag_seconds"`
	Rows        int64      `json:"rows"`
	Outcome     string     `json:"last_outcome,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	Error       string     `json:"error,omitempty"`
	Attempt     int        `json:"failed_attempts"`
	LastRun     *runJSON   `json:"last_run"`
	LastSuccess *time.Time `json:"last_success"`
	NextRun     *time.Time `json:"next_run"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	Progress    *progress  `json:"progress,omitempty"`
}

type progress struct {
	StartedAt time.Time `json:"started_at"`
	Extracted int64     `json:"extracted"`
	Estimate  *int64    `json:"estimate"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (h *handler) objectJSON(v orchestrator.ObjectView, now time.Time) objectJSON {
	o := objectJSON{
		Object: v.Object, State: string(v.State), Running: v.Running, Schedule: v.Schedule, FullPending: v.Full,
		Cursor: timePtr(v.Cursor.Time), CursorField: v.Cursor.Field, Rows: v.Rows,
		Outcome: string(v.Outcome), Reason: v.Reason, Error: v.Error, Attempt: v.Attempt,
		LastSuccess: timePtr(v.LastSuccess), NextAttempt: timePtr(v.NextAttempt),
	}
	if lag := v.Lag(now); lag >= 0 {
		s := lag.Seconds()
		o.LagSeconds = &s
	}
	if !v.Running {
		at := v.DueAt
		if at.IsZero() || at.Before(now) {
			at = now
		}
		o.NextRun = timePtr(at)
	}
	if v.LastRun != nil {
		r := toRunJSON(*v.LastRun)
		o.LastRun = &r
	}
	if v.Running {
		p := &progress{StartedAt: v.RunStarted.UTC(), Extracted: v.Extracted}
		if v.Estimate >= 0 {
			est := v.Estimate
			p.Estimate = &est
		}
		o.Progress = p
	}
	return o
}

// runJSON is one run in the API.
type runJSON struct {
	RunID         string     `json:"run_id"`
	Object        string     `json:"object"`
	Full          bool       `json:"full_refresh"`
	Status        string     `json:"status"`
	Reason        string     `json:"reason,omitempty"`
	Error         string     `json:"error,omitempty"`
	StartedAt     *time.Time `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at"`
	Seconds       *float64   `json:"duration_seconds"`
	WindowFrom    *time.Time `json:"window_from"`
	WindowTo      *time.Time `json:"window_to"`
	CursorBefore  *time.Time `json:"cursor_before"`
	CursorAfter   *time.Time `json:"cursor_after"`
	RowsExtracted int64      `json:"rows_extracted"`
	RowsUpserted  int64      `json:"rows_upserted"`
	RowsDeleted   int64      `json:"rows_deleted"`
	APICalls      int64      `json:"api_calls"`
	BulkJobs      int64      `json:"bulk_jobs"`
}

func toRunJSON(r sfsync.Run) runJSON {
	out := runJSON{
		RunID: r.ID, Object: r.Object, Full: r.Full, Status: string(r.Status), Reason: r.Reason, Error: r.Error,
		StartedAt: timePtr(r.StartedAt), FinishedAt: timePtr(r.FinishedAt),
		WindowFrom: timePtr(r.WindowFrom), WindowTo: timePtr(r.WindowTo),
		CursorBefore: timePtr(r.CursorBefore), CursorAfter: timePtr(r.CursorAfter),
		RowsExtracted: r.RowsExtracted, RowsUpserted: r.RowsUpserted, RowsDeleted: r.RowsDeleted, APICalls: r.APICalls,
		BulkJobs: r.BulkJobs,
	}
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		s := r.FinishedAt.Sub(r.StartedAt).Seconds()
		out.Seconds = &s
	}
	return out
}

// serviceJSONBody is the service in the API.
type serviceJSONBody struct {
	Ready            bool       `json:"ready"`
	StartedAt        *time.Time `json:"started_at"`
	Owner            string     `json:"owner"`
	WarehouseOpen    bool       `json:"warehouse_open"`
	WarehouseProblem string     `json:"warehouse_problem,omitempty"`
	ActiveRuns       int        `json:"active_runs"`
	Parallelism      int        `json:"parallelism"`
	APIUsed          int64      `json:"api_used"`
	APIMax           int64      `json:"api_max"`
	APICalls         int64      `json:"api_calls"`
	BudgetShare      float64    `json:"api_budget_share"`
}

func serviceJSON(s orchestrator.ServiceView) serviceJSONBody {
	return serviceJSONBody{Ready: s.Ready, StartedAt: timePtr(s.StartedAt), Owner: s.Owner,
		WarehouseOpen: s.WarehouseOpen, WarehouseProblem: s.WarehouseProblem,
		ActiveRuns: s.Active, Parallelism: s.Parallelism,
		APIUsed: s.Usage.Used, APIMax: s.Usage.Max, APICalls: s.Usage.Calls, BudgetShare: s.BudgetShare}
}
