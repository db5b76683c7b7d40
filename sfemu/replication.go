package sfemu

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The replication resources: /sobjects/{Obj}/updated and /deleted.
// Windows are whole minutes (seconds are ignored); updated looks back 30
// days, deleted 15; at most 600,000 Ids per answer.

const (
	maxReplicationIDs = 600_000
	updatedDays       = 30
	deletedDays       = 15
)

type updatedResult struct {
	IDs               []string `json:"ids"`
	LatestDateCovered string   `json:"latestDateCovered"`
}

type deletedRecord struct {
	ID          string `json:"id"`
	DeletedDate string `json:"deletedDate"`
}

type deletedResult struct {
	DeletedRecords        []deletedRecord `json:"deletedRecords"`
	EarliestDateAvailable string          `json:"earliestDateAvailable"`
	LatestDateCovered     string          `json:"latestDateCovered"`
}

func formatDateTime(t time.Time) string { return t.UTC().Format(restDateTime) }

func (s *Server) handleUpdated(w http.ResponseWriter, r *http.Request, _ *call) {
	s.replication(w, r, false)
}

func (s *Server) handleDeleted(w http.ResponseWriter, r *http.Request, _ *call) {
	s.replication(w, r, true)
}

// replicationWindow reads and checks start and end; on failure it writes
// the error and returns ok false.
func (s *Server) replicationWindow(w http.ResponseWriter, r *http.Request, days int) (start, covered time.Time, ok bool) {
	q := r.URL.Query()
	var bounds [2]time.Time
	for i, name := range []string{"start", "end"} {
		v := q.Get(name)
		if v == "" {
			writeError(w, http.StatusBadRequest, "MISSING_ARGUMENT", "Missing argument: "+name)
			return start, covered, false
		}
		t, err := parseDateTime(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_REPLICATION_DATE", name+": "+err.Error())
			return start, covered, false
		}
		bounds[i] = t.Truncate(time.Minute)
	}
	start, end := bounds[0], bounds[1]
	if !end.After(start) {
		writeError(w, http.StatusBadRequest, "INVALID_REPLICATION_DATE", "start date must be at least one minute before end date")
		return start, covered, false
	}
	now := s.now()
	if start.Before(now.Add(-time.Duration(days) * 24 * time.Hour).Truncate(time.Minute)) {
		writeError(w, http.StatusBadRequest, "INVALID_REPLICATION_DATE",
			"start date cannot be more than "+strconv.Itoa(days)+" days ago")
		return start, covered, false
	}
	covered = end
	if limit := now.Truncate(time.Minute); covered.After(limit) {
		covered = limit
	}
	if covered.Before(start) {
		covered = start
	}
	return start, covered, true
}

func (s *Server) replication(w http.ResponseWriter, r *http.Request, deletes bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, found := s.objects[strings.ToLower(r.PathValue("object"))]
	if !found {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	stamp := o.cursorField()
	if !o.Replicateable || stamp == nil {
		writeError(w, http.StatusBadRequest, "INVALID_TYPE", "sObject type '"+o.Name+"' is not replicateable")
		return
	}
	days := updatedDays
	if deletes {
		days = deletedDays
	}
	start, covered, ok := s.replicationWindow(w, r, days)
	if !ok {
		return
	}
	from, to := start.UnixMilli(), covered.UnixMilli()
	if deletes {
		out := deletedResult{
			DeletedRecords:        []deletedRecord{},
			EarliestDateAvailable: formatDateTime(s.now().Add(-deletedDays * 24 * time.Hour).Truncate(time.Minute)),
			LatestDateCovered:     formatDateTime(covered),
		}
		for _, d := range o.deletions {
			if d.at >= from && d.at < to {
				out.DeletedRecords = append(out.DeletedRecords, deletedRecord{
					ID: makeID(o.idPrefix, int64(d.recNo)), DeletedDate: formatDateTime(time.UnixMilli(d.at)),
				})
			}
		}
		if len(out.DeletedRecords) > maxReplicationIDs {
			writeError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "too many records deleted in this window; narrow it")
			return
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	col := o.cols[stamp.col].num
	i := sort.Search(len(o.order), func(i int) bool { return col[o.order[i]] >= from })
	isDel := o.roleField(roleIsDeleted)
	out := updatedResult{IDs: []string{}, LatestDateCovered: formatDateTime(covered)}
	for ; i < len(o.order); i++ {
		row := o.order[i]
		if col[row] >= to {
			break
		}
		if !o.current(row) || o.boolAt(isDel, row) {
			continue
		}
		if len(out.IDs) == maxReplicationIDs {
			writeError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "more than 600000 records updated in this window; narrow it")
			return
		}
		out.IDs = append(out.IDs, o.id(row))
	}
	writeJSON(w, http.StatusOK, out)
}
