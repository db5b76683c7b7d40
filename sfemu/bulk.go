package sfemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/sfsync/sfemu/soqlparse"
)

// Bulk API 2.0 query jobs. A job is created UploadComplete; the first poll
// of its info moves it to InProgress and takes its result snapshot (the
// matching rows, which are immutable versions, so later changes to the org
// leave the result alone); the Options.BulkJobPolls-th poll finds it
// JobComplete, or Failed under a jobfail fault, or still InProgress
// forever under a jobstuck fault. Results are served from the snapshot in
// pages addressed by locators until the job is deleted.

// routeBulkCreate is the route name of job creation, the only route job
// faults apply to.
const routeBulkCreate = "bulkcreate"

// Job states.
const (
	jobUploadComplete = "UploadComplete"
	jobInProgress     = "InProgress"
	jobComplete       = "JobComplete"
	jobFailed         = "Failed"
	jobAborted        = "Aborted"
)

// defaultJobFailure is the errorMessage of a job failed by a jobfail fault
// that gives none.
const defaultJobFailure = "InternalServerError: the query job failed after 15 internal retries. Apply a filter and try again."

// JobInfo is what the emulator holds about one Bulk API 2.0 query job.
type JobInfo struct {
	ID         string
	Operation  string // query or queryAll
	Object     string
	Query      string
	State      string // UploadComplete, InProgress, JobComplete, Failed or Aborted
	APIVersion string // "62.0"
	CreatedBy  string // Id of the user who created the job
	Created    time.Time
	// Records is the size of the result snapshot, once taken.
	Records      int
	ErrorMessage string // for Failed jobs
}

// bulkJobs is the org's query jobs that have not been deleted.
type bulkJobs struct {
	mu   sync.Mutex
	byID map[string]*bulkJob
	seq  int64
}

type bulkJob struct {
	info      JobInfo
	seq       int64
	o         *sobject
	q         *soqlparse.Query
	fields    []*field
	delimName string
	delim     byte
	crlf      bool
	polls     int
	fault     FaultKind
	faultMsg  string
	rows      []int32 // snapshot, taken when the job starts
	modstamp  time.Time
	started   time.Time
}

// BulkJobs lists the query jobs that exist (were created and not deleted),
// oldest first.
func (s *Server) BulkJobs() []JobInfo {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	list := make([]*bulkJob, 0, len(s.jobs.byID))
	for _, j := range s.jobs.byID {
		list = append(list, j)
	}
	slices.SortFunc(list, func(a, b *bulkJob) int { return int(a.seq - b.seq) })
	out := make([]JobInfo, len(list))
	for i, j := range list {
		out[i] = j.info
	}
	return out
}

// columnDelimiters maps the documented delimiter names to their bytes.
var columnDelimiters = map[string]byte{
	"BACKQUOTE": '`', "CARET": '^', "COMMA": ',', "PIPE": '|', "SEMICOLON": ';', "TAB": '\t',
}

// jobRequest is the body of a create request.
type jobRequest struct {
	Operation       string `json:"operation"`
	Query           string `json:"query"`
	ContentType     string `json:"contentType"`
	ColumnDelimiter string `json:"columnDelimiter"`
	LineEnding      string `json:"lineEnding"`
}

func (s *Server) handleBulkCreate(w http.ResponseWriter, r *http.Request, c *call) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "The request body could not be read")
		return
	}
	var req jobRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "The request body is not a JSON object: "+err.Error())
		return
	}
	if req.Operation != "query" && req.Operation != "queryAll" {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Invalid operation '"+req.Operation+"': query jobs take query or queryAll")
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "A query is required")
		return
	}
	if req.ContentType == "" {
		req.ContentType = "CSV"
	}
	if req.ContentType != "CSV" {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Invalid contentType '"+req.ContentType+"': only CSV is supported")
		return
	}
	if req.ColumnDelimiter == "" {
		req.ColumnDelimiter = "COMMA"
	}
	delim, ok := columnDelimiters[req.ColumnDelimiter]
	if !ok {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Invalid columnDelimiter '"+req.ColumnDelimiter+"'")
		return
	}
	if req.LineEnding == "" {
		req.LineEnding = "LF"
	}
	if req.LineEnding != "LF" && req.LineEnding != "CRLF" {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Invalid lineEnding '"+req.LineEnding+"': use LF or CRLF")
		return
	}

	j := &bulkJob{delimName: req.ColumnDelimiter, delim: delim, crlf: req.LineEnding == "CRLF"}
	if status, code, msg := s.bindJob(j, req.Query); status != 0 {
		writeError(w, status, code, msg)
		return
	}
	if c.jobFault != nil {
		j.fault, j.faultMsg = c.jobFault.Kind, c.jobFault.Message
	}
	wire := s.storeJob(j, req.Operation, req.Query, c.version, s.userID)
	writeJSON(w, http.StatusOK, wire)
}

// storeJob gives a bound job its info and id and adds it to the org's
// jobs; it returns the job's create answer.
func (s *Server) storeJob(j *bulkJob, operation, query, version, createdBy string) jobWire {
	now := s.now().Truncate(time.Millisecond)
	j.info = JobInfo{
		Operation:  operation,
		Object:     j.o.Name,
		Query:      query,
		State:      jobUploadComplete,
		APIVersion: version,
		CreatedBy:  createdBy,
		Created:    now,
	}
	j.modstamp = now
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if s.jobs.byID == nil {
		s.jobs.byID = map[string]*bulkJob{}
	}
	s.jobs.seq++
	j.seq = s.jobs.seq
	j.info.ID = makeID("750", j.seq)
	s.jobs.byID[j.info.ID] = j
	s.log.Debug("bulk job created", "job", j.info.ID, "object", j.info.Object, "created_by", createdBy)
	return s.jobWire(j, false)
}

// BulkJobSpec is a query job for AddBulkJob.
type BulkJobSpec struct {
	// CreatedBy is the Id of the user the job belongs to; empty for the
	// integration user every token acts as.
	CreatedBy string
	// Operation is query (the default) or queryAll.
	Operation string
	Query     string
	// APIVersion defaults to the newest version the org serves.
	APIVersion string
}

// AddBulkJob creates a query job as a client of another user would, so
// that tests can place jobs no token of the emulator could create. The job
// is checked like a created one, starts UploadComplete and moves on when
// its info is polled.
func (s *Server) AddBulkJob(spec BulkJobSpec) (JobInfo, error) {
	if spec.Operation == "" {
		spec.Operation = "query"
	}
	if spec.Operation != "query" && spec.Operation != "queryAll" {
		return JobInfo{}, fmt.Errorf("add bulk job: operation %q: want query or queryAll", spec.Operation)
	}
	if spec.CreatedBy == "" {
		spec.CreatedBy = s.userID
	}
	if spec.APIVersion == "" {
		best := 0.0
		for _, v := range s.opts.APIVersions {
			if n, ok := versionNumber(v); ok && float64(n) >= best {
				best, spec.APIVersion = float64(n), v
			}
		}
	}
	if !s.versions[spec.APIVersion] {
		return JobInfo{}, fmt.Errorf("add bulk job: API version %q is not served", spec.APIVersion)
	}
	j := &bulkJob{delimName: "COMMA", delim: ','}
	if status, code, msg := s.bindJob(j, spec.Query); status != 0 {
		return JobInfo{}, fmt.Errorf("add bulk job: %s: %s", code, msg)
	}
	s.storeJob(j, spec.Operation, spec.Query, spec.APIVersion, spec.CreatedBy)
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	return j.info, nil
}

// bindJob parses the job's SOQL and checks what Bulk queries refuse. It
// returns a non-zero status with the error to answer when the query cannot
// run as a job.
func (s *Server) bindJob(j *bulkJob, soql string) (status int, code, msg string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	q, err := soqlparse.Parse(soql, schemaView{s})
	if err != nil {
		var pe *soqlparse.Error
		if errors.As(err, &pe) {
			return http.StatusBadRequest, pe.Code, pe.Message
		}
		return http.StatusBadRequest, "MALFORMED_QUERY", err.Error()
	}
	o := s.objects[strings.ToLower(q.Object)]
	for _, name := range s.opts.BulkUnsupported {
		if strings.EqualFold(name, o.Name) {
			return http.StatusBadRequest, "INVALIDENTITY", "Entity '" + o.Name + "' is not supported by the Bulk API."
		}
	}
	if q.Count {
		return http.StatusBadRequest, "API_ERROR", "Aggregate queries are not supported in Bulk Query"
	}
	if q.Offset > 0 {
		return http.StatusBadRequest, "API_ERROR", "OFFSET is not supported in Bulk Query"
	}
	for _, name := range q.Fields {
		f, _ := o.field(name)
		switch {
		case f.kind == vkCompound:
			return http.StatusBadRequest, "API_ERROR", "Selecting compound data not supported in Bulk Query"
		case f.Type == "base64":
			return http.StatusBadRequest, "API_ERROR", "Selecting binary (base64) field " + o.Name + "." + f.Name + " is not supported in Bulk Query"
		}
		j.fields = append(j.fields, f)
	}
	j.o, j.q = o, q
	return 0, "", ""
}

// jobWire is a job's JSON form; counters are left out of the create
// answer.
type jobWire struct {
	ID                     string      `json:"id"`
	Operation              string      `json:"operation"`
	Object                 string      `json:"object"`
	CreatedByID            string      `json:"createdById"`
	CreatedDate            string      `json:"createdDate"`
	SystemModstamp         string      `json:"systemModstamp"`
	State                  string      `json:"state"`
	ConcurrencyMode        string      `json:"concurrencyMode"`
	ContentType            string      `json:"contentType"`
	APIVersion             json.Number `json:"apiVersion"`
	JobType                string      `json:"jobType,omitempty"`
	LineEnding             string      `json:"lineEnding"`
	ColumnDelimiter        string      `json:"columnDelimiter"`
	NumberRecordsProcessed *int64      `json:"numberRecordsProcessed,omitempty"`
	Retries                *int        `json:"retries,omitempty"`
	TotalProcessingTime    *int64      `json:"totalProcessingTime,omitempty"`
	IsPkChunkingSupported  *bool       `json:"isPkChunkingSupported,omitempty"`
	ErrorMessage           string      `json:"errorMessage,omitempty"`
}

// jobWire renders j; the caller holds s.jobs.mu.
func (s *Server) jobWire(j *bulkJob, counters bool) jobWire {
	lineEnding := "LF"
	if j.crlf {
		lineEnding = "CRLF"
	}
	wire := jobWire{
		ID:              j.info.ID,
		Operation:       j.info.Operation,
		Object:          j.info.Object,
		CreatedByID:     j.info.CreatedBy,
		CreatedDate:     j.info.Created.UTC().Format(restDateTime),
		SystemModstamp:  j.modstamp.UTC().Format(restDateTime),
		State:           j.info.State,
		ConcurrencyMode: "Parallel",
		ContentType:     "CSV",
		APIVersion:      json.Number(j.info.APIVersion),
		LineEnding:      lineEnding,
		ColumnDelimiter: j.delimName,
		ErrorMessage:    j.info.ErrorMessage,
	}
	if counters {
		n := int64(j.info.Records)
		retries := 0
		var took int64
		if !j.started.IsZero() {
			took = j.modstamp.Sub(j.started).Milliseconds()
		}
		chunking := true
		wire.JobType = "V2Query"
		wire.NumberRecordsProcessed = &n
		wire.Retries = &retries
		wire.TotalProcessingTime = &took
		wire.IsPkChunkingSupported = &chunking
	}
	return wire
}

// job returns the job the request names, answering 404 when there is
// none; the caller holds s.jobs.mu.
func (s *Server) job(w http.ResponseWriter, r *http.Request) (*bulkJob, bool) {
	j, ok := s.jobs.byID[r.PathValue("job")]
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
	return j, ok
}

// handleBulkList answers GET jobs/query: every job not deleted, oldest
// first, Options.BulkListPageSize per page. A page that is not the last
// has done false and a nextRecordsUrl, the same resource with a
// queryLocator naming where the next page starts; jobs deleted in between
// shift nothing.
func (s *Server) handleBulkList(w http.ResponseWriter, r *http.Request, c *call) {
	after := 0
	if loc := r.URL.Query().Get("queryLocator"); loc != "" {
		n, ok := parseLocator(loc)
		if !ok || n <= 0 {
			writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
			return
		}
		after = n
	}
	s.jobs.mu.Lock()
	list := make([]*bulkJob, 0, len(s.jobs.byID))
	for _, j := range s.jobs.byID {
		if j.seq > int64(after) {
			list = append(list, j)
		}
	}
	slices.SortFunc(list, func(a, b *bulkJob) int { return int(a.seq - b.seq) })
	size := s.opts.BulkListPageSize
	done := len(list) <= size
	if !done {
		list = list[:size]
	}
	records := make([]jobWire, len(list))
	for i, j := range list {
		records[i] = s.jobWire(j, true)
	}
	s.jobs.mu.Unlock()
	var next *string
	if !done {
		u := "/services/data/v" + c.version + "/jobs/query?queryLocator=" + url.QueryEscape(makeLocator(int(list[len(list)-1].seq)))
		next = &u
	}
	writeJSON(w, http.StatusOK, struct {
		Done           bool      `json:"done"`
		Records        []jobWire `json:"records"`
		NextRecordsURL *string   `json:"nextRecordsUrl"`
	}{done, records, next})
}

func (s *Server) handleBulkJob(w http.ResponseWriter, r *http.Request, _ *call) {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	j, ok := s.job(w, r)
	if !ok {
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.advance(j)
		writeJSON(w, http.StatusOK, s.jobWire(j, true))
	case http.MethodPatch:
		var req struct {
			State string `json:"state"`
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err := json.Unmarshal(body, &req); err != nil || req.State != jobAborted {
			writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "A query job can only be changed to state Aborted")
			return
		}
		switch j.info.State {
		case jobComplete, jobFailed:
			writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Job "+j.info.ID+" is already "+j.info.State+" and cannot be aborted")
			return
		case jobUploadComplete, jobInProgress:
			j.info.State = jobAborted
			j.modstamp = s.now()
			j.rows = nil
		}
		writeJSON(w, http.StatusOK, s.jobWire(j, true))
	case http.MethodDelete:
		switch j.info.State {
		case jobComplete, jobFailed, jobAborted:
		default:
			writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Job "+j.info.ID+" is "+j.info.State+": abort it before deleting it")
			return
		}
		delete(s.jobs.byID, j.info.ID)
		s.log.Debug("bulk job deleted", "job", j.info.ID)
		w.WriteHeader(http.StatusNoContent)
	}
}

// advance moves a job along its lifecycle at a poll of its info; the
// caller holds s.jobs.mu.
func (s *Server) advance(j *bulkJob) {
	switch j.info.State {
	case jobUploadComplete, jobInProgress:
	default:
		return
	}
	j.polls++
	now := s.now()
	if j.info.State == jobUploadComplete {
		j.info.State = jobInProgress
		j.started, j.modstamp = now, now
		s.mu.RLock()
		rows := j.o.match(j.q, j.info.Operation == "queryAll")
		s.mu.RUnlock()
		if j.q.Limit >= 0 && len(rows) > j.q.Limit {
			rows = rows[:j.q.Limit]
		}
		j.rows = rows
		j.info.Records = len(rows)
	}
	if j.fault == FaultJobStuck || j.polls < s.opts.BulkJobPolls {
		return
	}
	j.modstamp = now
	if j.fault == FaultJobFail {
		j.info.State = jobFailed
		j.info.ErrorMessage = j.faultMsg
		if j.info.ErrorMessage == "" {
			j.info.ErrorMessage = defaultJobFailure
		}
		j.rows, j.info.Records = nil, 0
		return
	}
	j.info.State = jobComplete
}
