package sfemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// The admin endpoint drives the emulator over HTTP when it runs as its own
// process (sfsync emulate): every mutation, faults, token expiry and the
// truth. The package documentation lists its routes.

type adminRequest struct {
	Object   string         `json:"object"`
	ID       string         `json:"id"`
	Fields   map[string]any `json:"fields"`
	N        int            `json:"n"`
	Seed     *uint64        `json:"seed"`
	MasterID string         `json:"masterId"`
	LoserIDs []string       `json:"loserIds"`
	Age      string         `json:"age"`
	Field    *FieldDef      `json:"field"`
	Value    any            `json:"value"`
	Used     *int64         `json:"used"`

	Kind  FaultKind `json:"kind"`
	Route string    `json:"route"`
	After int       `json:"after"`
	Times int       `json:"times"`
	Delay string    `json:"delay"`
	// Message is a jobfail fault's errorMessage.
	Message string `json:"message"`
}

type adminError struct {
	Error string `json:"error"`
}

func adminFail(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, adminError{Error: err.Error()})
}

func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request, c *call) {
	if r.Method != http.MethodPost {
		s.handleAdminGet(w, r, c)
		return
	}
	action := strings.TrimPrefix(r.URL.Path, "/_emulator/")
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		adminFail(w, http.StatusBadRequest, fmt.Errorf("read request body: %w", err))
		return
	}
	var req adminRequest
	if len(bytes.TrimSpace(body)) > 0 {
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		d.DisallowUnknownFields()
		if err := d.Decode(&req); err != nil {
			adminFail(w, http.StatusBadRequest, fmt.Errorf("%s: request body: %w", action, err))
			return
		}
	}
	s.log.Debug("admin action", "action", action, "object", req.Object)
	result, status, err := s.adminAction(action, &req)
	if err != nil {
		adminFail(w, status, err)
		return
	}
	writeJSON(w, http.StatusOK, result)
}

type okResult struct {
	OK bool `json:"ok"`
}

type idResult struct {
	ID string `json:"id"`
}

type idsResult struct {
	IDs []string `json:"ids"`
}

func (s *Server) adminAction(action string, req *adminRequest) (any, int, error) {
	bad := http.StatusBadRequest
	need := func(fields ...string) error {
		for _, f := range fields {
			switch {
			case f == "object" && req.Object == "",
				f == "id" && req.ID == "",
				f == "field" && req.Field == nil,
				f == "masterId" && req.MasterID == "",
				f == "loserIds" && len(req.LoserIDs) == 0,
				f == "used" && req.Used == nil:
				return fmt.Errorf("%s: %q is required", action, f)
			}
		}
		return nil
	}
	age := func() (time.Duration, error) {
		if req.Age == "" {
			return 0, fmt.Errorf("%s: \"age\" is required (a duration such as \"90s\")", action)
		}
		d, err := time.ParseDuration(req.Age)
		if err != nil {
			return 0, fmt.Errorf("%s: age: %w", action, err)
		}
		return d, nil
	}
	ok := okResult{OK: true}
	switch action {
	case "create":
		if err := need("object"); err != nil {
			return nil, bad, err
		}
		id, err := s.Create(req.Object, req.Fields)
		return idResult{ID: id}, bad, err
	case "update", "system-update":
		if err := need("object", "id"); err != nil {
			return nil, bad, err
		}
		if action == "update" {
			return ok, bad, s.Update(req.Object, req.ID, req.Fields)
		}
		return ok, bad, s.SystemUpdate(req.Object, req.ID, req.Fields)
	case "update-random":
		if err := need("object"); err != nil {
			return nil, bad, err
		}
		var rnd *rand.Rand
		if req.Seed != nil {
			rnd = rand.New(rand.NewPCG(*req.Seed, *req.Seed))
		}
		ids, err := s.UpdateRandom(req.Object, req.N, rnd)
		return idsResult{IDs: ids}, bad, err
	case "delete", "undelete", "purge":
		if err := need("object", "id"); err != nil {
			return nil, bad, err
		}
		fn := map[string]func(string, string) error{"delete": s.Delete, "undelete": s.Undelete, "purge": s.Purge}[action]
		return ok, bad, fn(req.Object, req.ID)
	case "merge":
		if err := need("object", "masterId", "loserIds"); err != nil {
			return nil, bad, err
		}
		return ok, bad, s.Merge(req.Object, req.MasterID, req.LoserIDs...)
	case "late-commit":
		if err := need("object"); err != nil {
			return nil, bad, err
		}
		d, err := age()
		if err != nil {
			return nil, bad, err
		}
		if req.ID == "" {
			id, err := s.LateCreate(req.Object, req.Fields, d)
			return idResult{ID: id}, bad, err
		}
		return idResult{ID: req.ID}, bad, s.LateCommit(req.Object, req.ID, req.Fields, d)
	case "touch-same-second":
		if err := need("object"); err != nil {
			return nil, bad, err
		}
		ids, err := s.TouchSameSecond(req.Object, req.N)
		return idsResult{IDs: ids}, bad, err
	case "add-field":
		if err := need("object", "field"); err != nil {
			return nil, bad, err
		}
		return ok, bad, s.AddField(req.Object, *req.Field)
	case "formula-drift":
		if err := need("object"); err != nil {
			return nil, bad, err
		}
		s.mu.RLock()
		_, err := s.object(req.Object)
		s.mu.RUnlock()
		if err != nil {
			return nil, bad, fmt.Errorf("%s: %w", action, err)
		}
		v := req.Value
		if n, isNum := v.(json.Number); isNum {
			v = string(n)
		}
		s.SetFormulaDrift(req.Object, v)
		return ok, 0, nil
	case "faults":
		f := Fault{Kind: req.Kind, Route: req.Route, After: req.After, Times: req.Times, Message: req.Message}
		if !f.Kind.valid() {
			return nil, bad, fmt.Errorf("faults: unknown kind %q (want unavailable, html500, limit, session, reset, slow, locator, timeout, jobfail or jobstuck)", req.Kind)
		}
		if req.Delay != "" {
			d, err := time.ParseDuration(req.Delay)
			if err != nil {
				return nil, bad, fmt.Errorf("faults: delay: %w", err)
			}
			f.Delay = d
		}
		s.InjectFault(f)
		return ok, 0, nil
	case "faults/clear":
		s.ClearFaults()
		return ok, 0, nil
	case "expire-tokens":
		s.ExpireTokens()
		return ok, 0, nil
	case "api-usage":
		if err := need("used"); err != nil {
			return nil, bad, err
		}
		s.SetAPIUsage(*req.Used)
		return ok, 0, nil
	}
	return nil, http.StatusNotFound, fmt.Errorf("unknown admin action %q", action)
}

type objectStats struct {
	Live     int `json:"live"`
	Deleted  int `json:"deleted"`
	Versions int `json:"versions"`
}

type stats struct {
	Requests int64                  `json:"requests"`
	APIUsage int64                  `json:"apiUsage"`
	APILimit int64                  `json:"apiLimit"`
	Cursors  int                    `json:"cursors"`
	BulkJobs int                    `json:"bulkJobs"` // query jobs not deleted
	Faults   int                    `json:"faults"`
	Objects  map[string]objectStats `json:"objects"`
}

func (s *Server) handleAdminGet(w http.ResponseWriter, r *http.Request, _ *call) {
	switch strings.TrimPrefix(r.URL.Path, "/_emulator/") {
	case "truth":
		object := r.URL.Query().Get("object")
		if object == "" {
			adminFail(w, http.StatusBadRequest, fmt.Errorf("truth: the object parameter is required"))
			return
		}
		all := r.URL.Query().Get("all") == "true"
		t := s.truth(object, all)
		if t == nil {
			adminFail(w, http.StatusNotFound, fmt.Errorf("truth: no object named %q", object))
			return
		}
		writeJSON(w, http.StatusOK, t)
	case "stats":
		writeJSON(w, http.StatusOK, s.stats())
	case "faults":
		writeJSON(w, http.StatusOK, s.faults.pending())
	default:
		adminFail(w, http.StatusNotFound, fmt.Errorf("unknown admin resource %q (GET serves truth, stats and faults)", r.URL.Path))
	}
}

func (s *Server) stats() stats {
	st := stats{
		Requests: s.requests.Load(),
		APIUsage: s.used.Load(),
		APILimit: s.opts.DailyAPILimit,
		Faults:   len(s.faults.pending()),
		Objects:  map[string]objectStats{},
	}
	s.cursorMu.Lock()
	st.Cursors = len(s.cursors)
	s.cursorMu.Unlock()
	st.BulkJobs = len(s.BulkJobs())
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, o := range s.objList {
		var os objectStats
		os.Versions = o.rows()
		for _, row := range o.cur {
			switch {
			case row < 0:
			case o.deleted(row):
				os.Deleted++
			default:
				os.Live++
			}
		}
		st.Objects[o.Name] = os
	}
	return st
}
