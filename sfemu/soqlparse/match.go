package soqlparse

import (
	"cmp"
	"strings"
	"time"
)

// matcher is a compiled WHERE clause or part of one.
type matcher func(Record) bool

func and(kids []matcher) matcher {
	if len(kids) == 2 {
		a, b := kids[0], kids[1]
		return func(r Record) bool { return a(r) && b(r) }
	}
	return func(r Record) bool {
		for _, m := range kids {
			if !m(r) {
				return false
			}
		}
		return true
	}
}

func or(kids []matcher) matcher {
	if len(kids) == 2 {
		a, b := kids[0], kids[1]
		return func(r Record) bool { return a(r) || b(r) }
	}
	return func(r Record) bool {
		for _, m := range kids {
			if m(r) {
				return true
			}
		}
		return false
	}
}

// isNull reports a null value; text fields hold no empty strings, so an
// empty string is null too.
func isNull(v any) bool { return v == nil || v == "" }

// nullMatcher compiles a comparison with the null literal: only = and !=
// can be true.
func nullMatcher(f string, op opKind) matcher {
	switch op {
	case opEq:
		return func(r Record) bool { return isNull(r.Get(f)) }
	case opNe:
		return func(r Record) bool { return !isNull(r.Get(f)) }
	}
	return func(Record) bool { return false }
}

// compareMatcher compiles field <op> literal for a non-null literal. A null
// field, or a value of another type, satisfies only !=.
func compareMatcher(f string, k kind, op opKind, lit val) matcher {
	switch op {
	case opEq:
		return func(r Record) bool { c, ok := compareValue(k, r.Get(f), &lit); return ok && c == 0 }
	case opNe:
		return func(r Record) bool { c, ok := compareValue(k, r.Get(f), &lit); return !ok || c != 0 }
	case opLt:
		return func(r Record) bool { c, ok := compareValue(k, r.Get(f), &lit); return ok && c < 0 }
	case opLe:
		return func(r Record) bool { c, ok := compareValue(k, r.Get(f), &lit); return ok && c <= 0 }
	case opGt:
		return func(r Record) bool { c, ok := compareValue(k, r.Get(f), &lit); return ok && c > 0 }
	default: // opGe
		return func(r Record) bool { c, ok := compareValue(k, r.Get(f), &lit); return ok && c >= 0 }
	}
}

// compareValue compares a record value with a non-null literal of kind k.
// ok is false when v is null or not of the kind's type.
func compareValue(k kind, v any, lit *val) (c int, ok bool) {
	switch k {
	case kID:
		s, ok := v.(string)
		if !ok || s == "" {
			return 0, false
		}
		return strings.Compare(s, lit.s), true
	case kNumber:
		return compareNumber(v, lit.n)
	case kBool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		return compareBool(b, lit.b), true
	case kDate, kDateTime, kTime:
		t, ok := v.(time.Time)
		if !ok {
			return 0, false
		}
		return t.Compare(lit.t), true
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return 0, false
	}
	return compareFold(s, lit.s), true
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// numberOf reads a numeric record value.
func numberOf(v any) (number, bool) {
	switch x := v.(type) {
	case int64:
		return number{f: float64(x), i: x, isInt: true}, true
	case float64:
		return number{f: x}, true
	case int:
		return number{f: float64(x), i: int64(x), isInt: true}, true
	case int32:
		return number{f: float64(x), i: int64(x), isInt: true}, true
	case float32:
		return number{f: float64(x)}, true
	}
	return number{}, false
}

func compareNumbers(a, b number) int {
	if a.isInt && b.isInt {
		return cmp.Compare(a.i, b.i)
	}
	return cmp.Compare(a.f, b.f)
}

func compareNumber(v any, lit number) (int, bool) {
	n, ok := numberOf(v)
	if !ok {
		return 0, false
	}
	return compareNumbers(n, lit), true
}

// idSetMin is the IN list length from which Id lists are looked up in a map.
const idSetMin = 8

// inMatcher compiles IN: true when the value equals any literal, or is null
// and the list holds null.
func inMatcher(f string, k kind, vals []val) matcher {
	hasNull := false
	lits := make([]val, 0, len(vals))
	for _, v := range vals {
		if v.null {
			hasNull = true
			continue
		}
		lits = append(lits, v)
	}
	if k == kID && len(lits) >= idSetMin {
		set := make(map[string]struct{}, len(lits))
		for _, v := range lits {
			set[v.s] = struct{}{}
		}
		return func(r Record) bool {
			v := r.Get(f)
			if isNull(v) {
				return hasNull
			}
			s, ok := v.(string)
			if !ok {
				return false
			}
			_, in := set[s]
			return in
		}
	}
	return func(r Record) bool {
		v := r.Get(f)
		if isNull(v) {
			return hasNull
		}
		for i := range lits {
			if c, ok := compareValue(k, v, &lits[i]); ok && c == 0 {
				return true
			}
		}
		return false
	}
}

// multiHas reports whether the multipicklist value v holds item, ignoring
// case and the spaces around values.
func multiHas(v, item string) bool {
	for part := range strings.SplitSeq(v, ";") {
		if strings.EqualFold(strings.TrimSpace(part), item) {
			return true
		}
	}
	return false
}

// multiEqualMatcher compiles multipicklist = 'A;B': the same set of values,
// in any order.
func multiEqualMatcher(f string, items []string) matcher {
	return func(r Record) bool {
		v, ok := r.Get(f).(string)
		if !ok || v == "" {
			return false
		}
		for _, it := range items {
			if !multiHas(v, it) {
				return false
			}
		}
		for part := range strings.SplitSeq(v, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			found := false
			for _, it := range items {
				if strings.EqualFold(part, it) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
}

// includesMatcher compiles INCLUDES ('A;B', 'C'): true when the value holds
// every value of at least one term.
func includesMatcher(f string, vals []val) matcher {
	var terms [][]string
	for _, v := range vals {
		if len(v.items) > 0 {
			terms = append(terms, v.items)
		}
	}
	return func(r Record) bool {
		v, ok := r.Get(f).(string)
		if !ok || v == "" {
			return false
		}
	terms:
		for _, term := range terms {
			for _, it := range term {
				if !multiHas(v, it) {
					continue terms
				}
			}
			return true
		}
		return false
	}
}

// sortKey is one compiled ORDER BY item.
type sortKey struct {
	field      string
	kind       kind
	desc       bool
	nullsFirst bool
}

// compare orders a and b on this key: nulls (and values of another type)
// where NULLS FIRST/LAST puts them, the rest by value, reversed for DESC.
func (s *sortKey) compare(a, b Record) int {
	va, vb := a.Get(s.field), b.Get(s.field)
	var c int
	var aok, bok bool
	switch s.kind {
	case kNumber:
		var x, y number
		x, aok = numberOf(va)
		y, bok = numberOf(vb)
		if aok && bok {
			c = compareNumbers(x, y)
		}
	case kDate, kDateTime, kTime:
		var x, y time.Time
		x, aok = va.(time.Time)
		y, bok = vb.(time.Time)
		if aok && bok {
			c = x.Compare(y)
		}
	case kBool:
		var x, y bool
		x, aok = va.(bool)
		y, bok = vb.(bool)
		if aok && bok {
			c = compareBool(x, y)
		}
	default:
		var x, y string
		x, aok = va.(string)
		y, bok = vb.(string)
		aok = aok && x != ""
		bok = bok && y != ""
		if aok && bok {
			if s.kind == kID {
				c = strings.Compare(x, y)
			} else {
				c = compareFold(x, y)
			}
		}
	}
	switch {
	case !aok && !bok:
		return 0
	case !aok:
		if s.nullsFirst {
			return -1
		}
		return 1
	case !bok:
		if s.nullsFirst {
			return 1
		}
		return -1
	}
	if s.desc {
		return -c
	}
	return c
}
