package sfemu

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
)

// Mutations change the org the way users and Salesforce itself do. Each
// writes a new version of the record (see store.go) and, unless stated
// otherwise, gives it a SystemModstamp strictly greater than any before at
// millisecond resolution, and the same LastModifiedDate.

// stampMode says which timestamps a write sets.
type stampMode int

const (
	userWrite   stampMode = iota // SystemModstamp, LastModifiedDate, LastModifiedById
	systemWrite                  // SystemModstamp only
)

// nextStamp returns a SystemModstamp after every one handed out so far:
// the clock's time, or one millisecond past the newest stamp when the
// clock has not moved on. The caller holds mu.
func (s *Server) nextStamp() int64 {
	t := s.now().UnixMilli()
	if t <= s.lastStamp {
		t = s.lastStamp + 1
	}
	s.lastStamp = t
	return t
}

// fieldCell is a validated value for one field.
type fieldCell struct {
	f *field
	c cell
}

// cells validates fields against o: every name must be a field that can
// be written (not a system field, formula or compound parent) and every
// value must convert to the field's type.
func (o *sobject) cells(fields map[string]any) ([]fieldCell, error) {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]fieldCell, 0, len(names))
	for _, n := range names {
		f, ok := o.field(n)
		switch {
		case !ok:
			return nil, fmt.Errorf("%s has no field %q", o.Name, n)
		case f.role != roleNone:
			return nil, fmt.Errorf("%s.%s is maintained by the org and cannot be set", o.Name, f.Name)
		case f.calculated():
			return nil, fmt.Errorf("%s.%s is a formula field and cannot be set", o.Name, f.Name)
		case f.kind == vkCompound:
			return nil, fmt.Errorf("%s.%s is a compound field; set its component fields instead", o.Name, f.Name)
		}
		c, err := f.convert(fields[n])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Name, err)
		}
		out = append(out, fieldCell{f: f, c: c})
	}
	return out, nil
}

// setStamps sets the audit fields of a new version.
func (s *Server) setStamps(o *sobject, row int32, stamp int64, mode stampMode) {
	if f := o.roleField(roleStamp); f != nil {
		o.set(f.col, row, cell{n: stamp})
	}
	if mode == userWrite {
		if f := o.roleField(roleModDate); f != nil {
			o.set(f.col, row, cell{n: stamp})
		}
		if f := o.roleField(roleModBy); f != nil {
			o.set(f.col, row, cell{s: s.userID})
		}
	}
}

// create adds a record; stamp 0 means the next stamp. Required fields
// missing from fields get generated values (OwnerId: the integration
// user; booleans: false).
func (s *Server) create(o *sobject, fields map[string]any, stamp int64) (string, error) {
	cs, err := o.cells(fields)
	if err != nil {
		return "", err
	}
	recNo := int64(len(o.cur))
	if recNo > maxRecNo {
		return "", fmt.Errorf("%s is full", o.Name)
	}
	row := o.newRow(int32(recNo), -1)
	given := map[*field]bool{}
	for _, fc := range cs {
		o.set(fc.f.col, row, fc.c)
		given[fc.f] = true
	}
	c := &genCtx{s: s, o: o, r: s.rng, base: s.created}
	c.start(row, recNo)
	for _, f := range o.fields {
		if !f.stored() || f.role != roleNone || given[f] || f.Nillable {
			continue
		}
		switch {
		case f.kind == vkBool:
			o.set(f.col, row, boolCell(false))
		case f.Name == "OwnerId":
			o.set(f.col, row, cell{s: s.userID})
		case f.gen != nil:
			o.set(f.col, row, f.gen(c, f))
		}
	}
	if stamp == 0 {
		stamp = s.nextStamp()
	}
	if f := o.roleField(roleIsDeleted); f != nil {
		o.set(f.col, row, boolCell(false))
	}
	if f := o.roleField(roleCreatedDate); f != nil {
		o.set(f.col, row, cell{n: stamp})
	}
	if f := o.roleField(roleCreatedBy); f != nil {
		o.set(f.col, row, cell{s: s.userID})
	}
	s.setStamps(o, row, stamp, userWrite)
	o.finish(row)
	o.commit(row)
	return o.id(row), nil
}

// live returns the current row of a record that exists and is not
// soft-deleted.
func (o *sobject) live(id string) (int32, error) {
	row, ok := o.lookup(id)
	if !ok {
		return -1, fmt.Errorf("%s record %q not found", o.Name, id)
	}
	if o.deleted(row) {
		return -1, fmt.Errorf("%s record %q is deleted", o.Name, id)
	}
	return row, nil
}

// update writes fields to a live record; stamp 0 means the next stamp.
func (s *Server) update(o *sobject, id string, fields map[string]any, stamp int64, mode stampMode) error {
	row, err := o.live(id)
	if err != nil {
		return err
	}
	cs, err := o.cells(fields)
	if err != nil {
		return err
	}
	nrow := o.newRow(o.recNo[row], row)
	for _, fc := range cs {
		o.set(fc.f.col, nrow, fc.c)
	}
	if stamp == 0 {
		stamp = s.nextStamp()
	}
	s.setStamps(o, nrow, stamp, mode)
	o.finish(nrow)
	o.commit(nrow)
	return nil
}

// locked runs fn with the org locked for writing and o resolved.
func (s *Server) locked(object string, fn func(o *sobject) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.object(object)
	if err != nil {
		return err
	}
	return fn(o)
}

// Create adds a record and returns its 18-character Id. Field names are
// case-insensitive; values are Go values or their text forms (see the
// package documentation). Required fields left out get generated values.
func (s *Server) Create(object string, fields map[string]any) (string, error) {
	var id string
	err := s.locked(object, func(o *sobject) error {
		var err error
		id, err = s.create(o, fields, 0)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create %s: %w", object, err)
	}
	return id, nil
}

// Update changes fields of a live record, as a user edit does.
func (s *Server) Update(object, id string, fields map[string]any) error {
	err := s.locked(object, func(o *sobject) error { return s.update(o, id, fields, 0, userWrite) })
	if err != nil {
		return fmt.Errorf("update %s %s: %w", object, id, err)
	}
	return nil
}

// SystemUpdate changes fields of a live record as an automated process
// does: SystemModstamp moves, LastModifiedDate does not.
func (s *Server) SystemUpdate(object, id string, fields map[string]any) error {
	err := s.locked(object, func(o *sobject) error { return s.update(o, id, fields, 0, systemWrite) })
	if err != nil {
		return fmt.Errorf("system update %s %s: %w", object, id, err)
	}
	return nil
}

// UpdateRandom updates n distinct random live records, each in one to
// three random updateable fields, and returns their Ids in update order.
// rnd drives the choices; nil uses the org's own generator.
func (s *Server) UpdateRandom(object string, n int, rnd *rand.Rand) ([]string, error) {
	var ids []string
	err := s.locked(object, func(o *sobject) error {
		if rnd == nil {
			rnd = s.rng
		}
		recs, err := o.pickLive(n, rnd)
		if err != nil {
			return err
		}
		var candidates []*field
		for _, f := range o.fields {
			if f.stored() && f.role == roleNone && f.Updateable && f.gen != nil {
				candidates = append(candidates, f)
			}
		}
		if len(candidates) == 0 {
			return fmt.Errorf("%s has no updateable fields", o.Name)
		}
		c := &genCtx{s: s, o: o, r: rnd, base: s.created}
		for _, rn := range recs {
			row := o.newRow(int32(rn), o.rowOf(rn))
			c.start(row, rn)
			k := 1 + rnd.IntN(3)
			for i := 0; i < k; i++ {
				f := candidates[rnd.IntN(len(candidates))]
				o.set(f.col, row, f.gen(c, f))
			}
			s.setStamps(o, row, s.nextStamp(), userWrite)
			o.finish(row)
			o.commit(row)
			ids = append(ids, o.id(row))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update random %s: %w", object, err)
	}
	return ids, nil
}

// pickLive returns n distinct record numbers of live records, chosen at
// random.
func (o *sobject) pickLive(n int, rnd *rand.Rand) ([]int64, error) {
	if n < 0 {
		return nil, fmt.Errorf("cannot pick %d records", n)
	}
	isDel := o.roleField(roleIsDeleted)
	isLive := func(rn int64) bool {
		row := o.cur[rn]
		return row >= 0 && !o.boolAt(isDel, row)
	}
	total := int64(len(o.cur))
	if int64(n)*4 < total {
		seen := make(map[int64]bool, n)
		out := make([]int64, 0, n)
		for tries := 0; len(out) < n && tries < 50*n+100; tries++ {
			rn := rnd.Int64N(total)
			if !seen[rn] && isLive(rn) {
				seen[rn] = true
				out = append(out, rn)
			}
		}
		if len(out) == n {
			return out, nil
		}
	}
	var live []int64
	for rn := int64(0); rn < total; rn++ {
		if isLive(rn) {
			live = append(live, rn)
		}
	}
	if n > len(live) {
		return nil, fmt.Errorf("asked for %d records but %s has %d live ones", n, o.Name, len(live))
	}
	for i := 0; i < n; i++ {
		j := i + rnd.IntN(len(live)-i)
		live[i], live[j] = live[j], live[i]
	}
	return live[:n], nil
}

// Delete soft-deletes a record: IsDeleted becomes true, the record leaves
// query but stays in queryAll and is listed by /deleted.
func (s *Server) Delete(object, id string) error {
	err := s.locked(object, func(o *sobject) error {
		if !o.Deletable || o.roleField(roleIsDeleted) == nil {
			return fmt.Errorf("%s records cannot be deleted", o.Name)
		}
		row, err := o.live(id)
		if err != nil {
			return err
		}
		s.softDelete(o, row, "")
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", object, id, err)
	}
	return nil
}

// softDelete writes the deleted version of row, with MasterRecordId set
// when master is not empty.
func (s *Server) softDelete(o *sobject, row int32, master string) {
	nrow := o.newRow(o.recNo[row], row)
	o.set(o.roleField(roleIsDeleted).col, nrow, boolCell(true))
	if master != "" {
		o.set(o.roleField(roleMaster).col, nrow, cell{s: master})
	}
	stamp := s.nextStamp()
	s.setStamps(o, nrow, stamp, userWrite)
	o.commit(nrow)
	o.deletions = append(o.deletions, deletion{recNo: o.recNo[row], at: stamp})
}

// Undelete restores a soft-deleted record from the Recycle Bin.
func (s *Server) Undelete(object, id string) error {
	err := s.locked(object, func(o *sobject) error {
		row, ok := o.lookup(id)
		if !ok {
			return fmt.Errorf("%s record %q not found", o.Name, id)
		}
		if !o.deleted(row) {
			return fmt.Errorf("%s record %q is not deleted", o.Name, id)
		}
		nrow := o.newRow(o.recNo[row], row)
		o.set(o.roleField(roleIsDeleted).col, nrow, boolCell(false))
		if m := o.roleField(roleMaster); m != nil {
			o.set(m.col, nrow, cell{})
		}
		s.setStamps(o, nrow, s.nextStamp(), userWrite)
		o.commit(nrow)
		rn := o.recNo[row]
		o.deletions = slices.DeleteFunc(o.deletions, func(d deletion) bool { return d.recNo == rn })
		return nil
	})
	if err != nil {
		return fmt.Errorf("undelete %s %s: %w", object, id, err)
	}
	return nil
}

// Purge hard-deletes a record, live or soft-deleted: it is gone from
// queryAll too, and only /deleted still lists it.
func (s *Server) Purge(object, id string) error {
	err := s.locked(object, func(o *sobject) error {
		row, ok := o.lookup(id)
		if !ok {
			return fmt.Errorf("%s record %q not found", o.Name, id)
		}
		rn := o.recNo[row]
		if !o.deleted(row) {
			o.deletions = append(o.deletions, deletion{recNo: rn, at: s.nextStamp()})
		}
		o.cur[rn] = -1
		return nil
	})
	if err != nil {
		return fmt.Errorf("purge %s %s: %w", object, id, err)
	}
	return nil
}

// Merge merges losers into master: each loser is soft-deleted with
// MasterRecordId set to master, and master is updated.
func (s *Server) Merge(object, masterID string, loserIDs ...string) error {
	err := s.locked(object, func(o *sobject) error {
		if !o.Mergeable || o.roleField(roleMaster) == nil {
			return fmt.Errorf("%s records cannot be merged", o.Name)
		}
		if len(loserIDs) == 0 {
			return fmt.Errorf("no records to merge into %s", masterID)
		}
		master, err := o.live(masterID)
		if err != nil {
			return err
		}
		masterFull := o.id(master)
		rows := make([]int32, 0, len(loserIDs))
		for _, id := range loserIDs {
			row, err := o.live(id)
			if err != nil {
				return err
			}
			if row == master || slices.Contains(rows, row) {
				return fmt.Errorf("record %q appears twice in the merge", id)
			}
			rows = append(rows, row)
		}
		for _, row := range rows {
			s.softDelete(o, row, masterFull)
		}
		nrow := o.newRow(o.recNo[master], master)
		s.setStamps(o, nrow, s.nextStamp(), userWrite)
		o.commit(nrow)
		return nil
	})
	if err != nil {
		return fmt.Errorf("merge %s into %s: %w", object, masterID, err)
	}
	return nil
}

// lateStamp is the stamp of a change committed now whose transaction
// started age ago.
func (s *Server) lateStamp(age time.Duration) (int64, error) {
	if age < 0 {
		return 0, fmt.Errorf("age %v is negative", age)
	}
	t := s.now().Add(-age).UnixMilli()
	if t <= 0 {
		return 0, fmt.Errorf("age %v reaches before 1970", age)
	}
	return t, nil
}

// LateCommit applies an update whose SystemModstamp and LastModifiedDate
// lie age in the past, as a long transaction committing now would: the
// change becomes visible only now, behind cursors that already passed
// its timestamp. With id == "" it creates a record instead (use
// LateCreate to learn its Id).
func (s *Server) LateCommit(object, id string, fields map[string]any, age time.Duration) error {
	if id == "" {
		_, err := s.LateCreate(object, fields, age)
		return err
	}
	err := s.locked(object, func(o *sobject) error {
		stamp, err := s.lateStamp(age)
		if err != nil {
			return err
		}
		return s.update(o, id, fields, stamp, userWrite)
	})
	if err != nil {
		return fmt.Errorf("late commit %s %s: %w", object, id, err)
	}
	return nil
}

// LateCreate creates a record whose timestamps lie age in the past (see
// LateCommit) and returns its Id.
func (s *Server) LateCreate(object string, fields map[string]any, age time.Duration) (string, error) {
	var id string
	err := s.locked(object, func(o *sobject) error {
		stamp, err := s.lateStamp(age)
		if err != nil {
			return err
		}
		id, err = s.create(o, fields, stamp)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("late create %s: %w", object, err)
	}
	return id, nil
}

// TouchSameSecond updates n random live records so that all of them get
// the same SystemModstamp (and LastModifiedDate): a whole second later
// than any stamp before. It returns their Ids in Id order.
func (s *Server) TouchSameSecond(object string, n int) ([]string, error) {
	var ids []string
	err := s.locked(object, func(o *sobject) error {
		if n < 1 {
			return fmt.Errorf("n = %d; need at least one record", n)
		}
		recs, err := o.pickLive(n, s.rng)
		if err != nil {
			return err
		}
		slices.Sort(recs)
		now := s.now().UnixMilli()
		sec := max(now-now%1000, s.lastStamp-s.lastStamp%1000+1000)
		s.lastStamp = sec
		for _, rn := range recs {
			row := o.newRow(int32(rn), o.rowOf(rn))
			s.setStamps(o, row, sec, userWrite)
			o.commit(row)
			ids = append(ids, o.id(row))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("touch %s: %w", object, err)
	}
	return ids, nil
}

// SetFormulaDrift makes every formula field of object read v (converted to
// the field's type; null when it does not convert) without touching any
// timestamp, as a cross-object or time-based formula changes. nil restores
// the formulas.
func (s *Server) SetFormulaDrift(object string, v any) {
	err := s.locked(object, func(o *sobject) error {
		o.drift, o.hasDrift = v, v != nil
		return nil
	})
	if err != nil {
		s.log.Warn("formula drift ignored", "object", object, "error", err)
	}
}

// AddField adds a custom field to an object, as a schema change in Setup
// does: existing records read null (false for a checkbox) and the
// object's describe reports a new Last-Modified.
func (s *Server) AddField(object string, def FieldDef) error {
	err := s.locked(object, func(o *sobject) error {
		fs, err := customFields(o.Name, []FieldDef{def}, func(n string) bool { _, ok := o.field(n); return ok })
		if err != nil {
			return err
		}
		if def.Formula != "" {
			// Compile before adding, so a bad formula changes nothing.
			if _, err := compileFormula(o, def.Formula); err != nil {
				return fmt.Errorf("field %s: %w", def.Name, err)
			}
		}
		for _, f := range fs {
			o.addField(f)
		}
		if err := o.prepare(); err != nil {
			return err
		}
		s.touchSchema(o)
		return nil
	})
	if err != nil {
		return fmt.Errorf("add field %s.%s: %w", object, def.Name, err)
	}
	return nil
}

// Truth returns every live (not deleted) record of object: Id → field →
// value. Values are nil, string, bool, int64, float64 or time.Time (UTC;
// dates at midnight, times of day on 1970-01-01). Compound parents are
// left out; their components are in. Nil for an unknown object.
func (s *Server) Truth(object string) map[string]map[string]any {
	return s.truth(object, false)
}

// TruthAll is Truth including soft-deleted records (IsDeleted true).
// Purged records are in neither.
func (s *Server) TruthAll(object string) map[string]map[string]any {
	return s.truth(object, true)
}

func (s *Server) truth(object string, all bool) map[string]map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.objects[strings.ToLower(object)]
	if !ok {
		return nil
	}
	out := map[string]map[string]any{}
	for _, row := range o.cur {
		if row < 0 || (!all && o.deleted(row)) {
			continue
		}
		rec := make(map[string]any, len(o.fields))
		for _, f := range o.fields {
			if f.kind != vkCompound {
				rec[f.Name] = o.value(f, row)
			}
		}
		out[o.id(row)] = rec
	}
	return out
}

// Describe returns an object's fields as definitions, standard and custom,
// compound parents included.
func (s *Server) Describe(object string) (ObjectDef, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.objects[strings.ToLower(object)]
	if !ok {
		return ObjectDef{}, false
	}
	return o.def(), true
}

// RequestCount is the number of API requests counted against the daily
// limit since New (token calls and the versions list are not counted).
func (s *Server) RequestCount() int64 { return s.requests.Load() }

// SetAPIUsage sets the org's used API count, as reported by
// Sforce-Limit-Info and /limits.
func (s *Server) SetAPIUsage(used int64) { s.used.Store(max(used, 0)) }
