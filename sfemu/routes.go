package sfemu

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// routeKind says which pipeline a route runs through.
type routeKind int

const (
	// routeAPI: under /services/data/vXX.X/: faults, bearer token, known
	// version, method, daily limit, then counted.
	routeAPI routeKind = iota
	// routeOAuth: /services/oauth2/...: faults, method; not counted.
	routeOAuth
	// routeVersions: GET /services/data/: faults, method; no token, not
	// counted.
	routeVersions
	// routeAdmin: /_emulator/...: method only.
	routeAdmin
)

// call carries what the pipeline learned about a request.
type call struct {
	version string // API version from the path, e.g. "62.0"
	route   *route
	// jobFault is a job fault (jobfail, jobstuck) taken for this request;
	// the create handler gives it to the job it creates.
	jobFault *Fault
}

type handler func(w http.ResponseWriter, r *http.Request, c *call)

// route is one endpoint. Patterns use net/http.ServeMux syntax.
type route struct {
	kind     routeKind
	name     string   // what Fault.Route matches
	methods  []string // allowed methods; nil allows any
	patterns []string
	handle   handler
}

// Allowed methods of routes.
var (
	onlyGet   = []string{http.MethodGet, http.MethodHead}
	onlyPost  = []string{http.MethodPost}
	getOrPost = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	// jobMethods serve a query job: info, abort, delete.
	jobMethods = []string{http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodDelete}
)

// methodData is data for one method only, so that one path can serve two
// routes (creating and listing query jobs).
func methodData(method, path string) []string {
	ps := data(path)
	for i := range ps {
		ps[i] = method + " " + ps[i]
	}
	return ps
}

// data returns the patterns for an API resource path with and without a
// trailing slash.
func data(path string) []string {
	p := "/services/data/{version}/" + path
	return []string{p, p + "/{$}"}
}

// routes is the one place endpoints are registered.
func (s *Server) routes() []route {
	return []route{
		{kind: routeOAuth, name: "token", methods: onlyPost, patterns: []string{"/services/oauth2/token"}, handle: s.handleToken},
		{kind: routeOAuth, name: "userinfo", methods: getOrPost, patterns: []string{"/services/oauth2/userinfo"}, handle: s.handleUserInfo},
		{kind: routeVersions, name: "versions", methods: onlyGet, patterns: []string{"/services/data", "/services/data/{$}"}, handle: s.handleVersions},

		{kind: routeAPI, name: "resources", methods: onlyGet, patterns: []string{"/services/data/{version}/{$}"}, handle: s.handleResources},
		{kind: routeAPI, name: "limits", methods: onlyGet, patterns: data("limits"), handle: s.handleLimits},
		{kind: routeAPI, name: "sobjects", methods: onlyGet, patterns: data("sobjects"), handle: s.handleDescribeGlobal},
		{kind: routeAPI, name: "describe", methods: onlyGet, patterns: data("sobjects/{object}/describe"), handle: s.handleDescribe},
		{kind: routeAPI, name: "sobject", methods: onlyGet, patterns: data("sobjects/{object}"), handle: s.handleSObject},
		{kind: routeAPI, name: "updated", methods: onlyGet, patterns: data("sobjects/{object}/updated"), handle: s.handleUpdated},
		{kind: routeAPI, name: "deleted", methods: onlyGet, patterns: data("sobjects/{object}/deleted"), handle: s.handleDeleted},
		{kind: routeAPI, name: "query", methods: onlyGet, patterns: data("query"), handle: s.handleQuery},
		{kind: routeAPI, name: "query", methods: onlyGet, patterns: data("queryAll"), handle: s.handleQueryAll},
		{kind: routeAPI, name: "querymore", methods: onlyGet, patterns: []string{
			"/services/data/{version}/query/{locator}", "/services/data/{version}/queryAll/{locator}",
		}, handle: s.handleQueryMore},
		{kind: routeAPI, name: routeBulkCreate, methods: onlyPost, patterns: methodData(http.MethodPost, "jobs/query"), handle: s.handleBulkCreate},
		{kind: routeAPI, name: "bulklist", methods: onlyGet, patterns: methodData(http.MethodGet, "jobs/query"), handle: s.handleBulkList},
		{kind: routeAPI, name: "bulkjob", methods: jobMethods, patterns: data("jobs/query/{job}"), handle: s.handleBulkJob},
		{kind: routeAPI, name: "bulkresults", methods: onlyGet, patterns: data("jobs/query/{job}/results"), handle: s.handleBulkResults},
		{kind: routeAPI, name: "bulkresultpages", methods: onlyGet, patterns: data("jobs/query/{job}/resultPages"), handle: s.handleBulkResultPages},
		{kind: routeAPI, name: "", patterns: []string{"/services/data/{version}/"}, handle: handleNotFound},

		{kind: routeAdmin, name: "admin", methods: getOrPost, patterns: []string{"/_emulator/{action}", "/_emulator/faults/clear"}, handle: s.handleAdmin},
		{kind: routeAdmin, name: "admin", patterns: []string{"/"}, handle: handleNotFound},
	}
}

func (s *Server) buildMux() *http.ServeMux {
	mux := http.NewServeMux()
	rs := s.routes()
	for i := range rs {
		rt := &rs[i]
		for _, p := range rt.patterns {
			mux.Handle(p, s.pipeline(rt))
		}
	}
	return mux
}

// pipeline runs a request through faults and, for API routes, the checks
// every Salesforce REST call passes: token, version, method, daily limit.
func (s *Server) pipeline(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{route: rt, version: strings.TrimPrefix(r.PathValue("version"), "v")}
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "route", rt.name)
		if rt.kind != routeAdmin {
			if f, ok := s.faults.take(rt.name, rt.kind == routeAPI); ok {
				switch f.Kind {
				case FaultSlow:
					if !sleepCtx(r.Context(), f.Delay) {
						return
					}
				case FaultReset:
					rec := newRecorder()
					s.dispatch(rec, r, c)
					resetMidBody(w, rec)
					return
				case FaultJobFail, FaultJobStuck:
					c.jobFault = &f
				default:
					s.writeFault(w, r, f)
					return
				}
			}
		}
		s.dispatch(w, r, c)
	})
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, c *call) {
	rt := c.route
	s.setUsage(w, r)
	if rt.kind != routeAPI {
		if !allowed(rt.methods, r.Method) {
			methodNotAllowed(w, r, rt.methods)
			return
		}
		rt.handle(w, r, c)
		return
	}
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	if !s.versions[c.version] || !strings.HasPrefix(r.PathValue("version"), "v") {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if !allowed(rt.methods, r.Method) {
		methodNotAllowed(w, r, rt.methods)
		return
	}
	if !s.count() {
		writeError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return
	}
	s.setUsage(w, r)
	rt.handle(w, r, c)
}

// count records one API request against the daily limit; false when the
// limit is already used up.
func (s *Server) count() bool {
	for {
		u := s.used.Load()
		if u >= s.opts.DailyAPILimit {
			return false
		}
		if s.used.CompareAndSwap(u, u+1) {
			s.requests.Add(1)
			return true
		}
	}
}

// setUsage sets Sforce-Limit-Info on responses under /services/data.
func (s *Server) setUsage(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/services/data") {
		w.Header().Set("Sforce-Limit-Info", "api-usage="+strconv.FormatInt(s.used.Load(), 10)+"/"+strconv.FormatInt(s.opts.DailyAPILimit, 10))
	}
}

func allowed(methods []string, m string) bool {
	return methods == nil || slices.Contains(methods, m)
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, methods []string) {
	var list []string
	for _, m := range methods {
		if m != http.MethodHead {
			list = append(list, m)
		}
	}
	w.Header().Set("Allow", strings.Join(list, ", "))
	writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		"HTTP Method '"+r.Method+"' not allowed. Allowed are "+strings.Join(list, ","))
}

func handleNotFound(w http.ResponseWriter, _ *http.Request, _ *call) {
	writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
}
