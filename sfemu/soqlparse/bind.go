package soqlparse

import (
	"strings"
	"time"
)

// kind is how a field's values compare.
type kind uint8

const (
	kText     kind = iota // case-insensitive text
	kID                   // id and reference: exact, byte order
	kMulti                // multipicklist: ;-separated values
	kBool                 // boolean
	kNumber               // int, long, double, currency, percent
	kDate                 // date
	kDateTime             // datetime
	kTime                 // time
	kCompound             // address, location: neither filtered nor sorted
)

func kindOf(typ string) kind {
	switch strings.ToLower(typ) {
	case "id", "reference":
		return kID
	case "multipicklist":
		return kMulti
	case "boolean":
		return kBool
	case "int", "long", "double", "currency", "percent":
		return kNumber
	case "date":
		return kDate
	case "datetime":
		return kDateTime
	case "time":
		return kTime
	case "address", "location":
		return kCompound
	}
	return kText
}

// typeName is how error messages name the type a literal must have.
func typeName(typ string, k kind) string {
	switch k {
	case kText, kMulti:
		return "string"
	case kID:
		return "id"
	case kBool:
		return "boolean"
	case kNumber:
		if t := strings.ToLower(typ); t != "int" {
			return t
		}
		return "integer"
	case kDate:
		return "date"
	case kDateTime:
		return "dateTime"
	case kTime:
		return "time"
	}
	return strings.ToLower(typ)
}

// val is a literal checked against its field's type.
type val struct {
	null  bool
	s     string      // kText, kID, kMulti
	items []string    // kMulti: the ;-separated values, trimmed
	n     number      // kNumber
	b     bool        // kBool
	t     time.Time   // kDate, kDateTime, kTime
	like  likePattern // LIKE
}

type binder struct {
	src    string
	obj    ObjectSchema
	bounds map[string]*Bounds // datetime bounds of the WHERE clause's conjuncts, by field
}

func parse(src string, s Schema) (*Query, *Error) {
	st, err := parseStmt(src)
	if err != nil {
		return nil, err
	}
	var obj ObjectSchema
	ok := false
	if s != nil {
		obj, ok = s.Object(st.object.text)
	}
	if !ok {
		return nil, errorAt(CodeInvalidType, src, st.object.pos, notSupportedObject(st.object.text))
	}
	b := &binder{src: src, obj: obj}
	q := &Query{Object: obj.Name(), Count: st.count, Limit: st.limit, Offset: st.offset}

	seen := make(map[string]bool, len(st.fields))
	for _, t := range st.fields {
		fi, err := b.field(t)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(fi.Name)
		if seen[key] {
			return nil, errorAt(CodeMalformedQuery, src, t.pos, "duplicate field selected: "+fi.Name)
		}
		seen[key] = true
		q.Fields = append(q.Fields, fi.Name)
	}
	if st.where != nil {
		if q.where, err = b.compile(st.where, true); err != nil {
			return nil, err
		}
		q.bounds = b.bounds
	}
	for _, it := range st.order {
		fi, err := b.field(it.field)
		if err != nil {
			return nil, err
		}
		k := kindOf(fi.Type)
		if !fi.Sortable || k == kCompound {
			return nil, errorAt(CodeInvalidField, src, it.field.pos, "field '"+fi.Name+"' can not be sorted in a query call")
		}
		first := !it.desc
		switch it.nulls {
		case nullsFirst:
			first = true
		case nullsLast:
			first = false
		}
		q.order = append(q.order, sortKey{field: fi.Name, kind: k, desc: it.desc, nullsFirst: first})
	}
	return q, nil
}

// field resolves a field name token.
func (b *binder) field(t token) (FieldInfo, *Error) {
	if strings.Contains(t.text, ".") {
		return FieldInfo{}, errorAt(CodeInvalidField, b.src, t.pos, relationshipPath(t.text))
	}
	fi, ok := b.obj.Field(t.text)
	if !ok {
		return FieldInfo{}, errorAt(CodeInvalidField, b.src, t.pos, noSuchColumn(t.text, b.obj.Name()))
	}
	return fi, nil
}

// compile compiles n; conjunct says that every record matching the WHERE
// clause satisfies n (it is the clause, or a term of ANDs that are).
func (b *binder) compile(n *node, conjunct bool) (matcher, *Error) {
	switch n.kind {
	case nNot:
		x, err := b.compile(n.kids[0], false)
		if err != nil {
			return nil, err
		}
		return func(r Record) bool { return !x(r) }, nil
	case nAnd, nOr:
		kids := make([]matcher, len(n.kids))
		for i, k := range n.kids {
			m, err := b.compile(k, conjunct && n.kind == nAnd)
			if err != nil {
				return nil, err
			}
			kids[i] = m
		}
		if n.kind == nAnd {
			return and(kids), nil
		}
		return or(kids), nil
	}
	return b.comparison(n, conjunct)
}

func (b *binder) comparison(n *node, conjunct bool) (matcher, *Error) {
	fi, err := b.field(n.field)
	if err != nil {
		return nil, err
	}
	k := kindOf(fi.Type)
	if !fi.Filterable || k == kCompound {
		return nil, b.fieldError(n, "field '"+fi.Name+"' can not be filtered in a query call")
	}
	if err := b.checkOperator(n, fi, k); err != nil {
		return nil, err
	}
	vals := make([]val, len(n.vals))
	for i, t := range n.vals {
		v, err := b.literal(n, fi, k, t)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	f := fi.Name
	switch n.op {
	case opLike:
		return likeMatcher(f, vals[0].like), nil
	case opIncludes:
		return includesMatcher(f, vals), nil
	case opExcludes:
		m := includesMatcher(f, vals)
		return func(r Record) bool { return !m(r) }, nil
	case opIn, opNotIn:
		m := inMatcher(f, k, vals)
		if n.op == opNotIn {
			return func(r Record) bool { return !m(r) }, nil
		}
		return m, nil
	}
	v := vals[0]
	if conjunct && k == kDateTime && !v.null {
		b.bound(fi.Name, n.op, v.t)
	}
	switch {
	case v.null:
		return nullMatcher(f, n.op), nil
	case k == kMulti:
		m := multiEqualMatcher(f, v.items)
		if n.op == opNe {
			return func(r Record) bool { return !m(r) }, nil
		}
		return m, nil
	}
	return compareMatcher(f, k, n.op, v), nil
}

func (b *binder) fieldError(n *node, msg string) *Error {
	return errorAt(CodeInvalidField, b.src, n.field.pos, msg)
}

// checkOperator refuses operators the field's type does not support.
func (b *binder) checkOperator(n *node, fi FieldInfo, k kind) *Error {
	typ := strings.ToLower(fi.Type)
	switch n.op {
	case opLike:
		if k != kText {
			return b.fieldError(n, "invalid operator on "+typ+" field '"+fi.Name+"': LIKE applies to text fields only")
		}
	case opIncludes, opExcludes:
		if k != kMulti {
			return b.fieldError(n, "includes or excludes operator only valid on multipicklist field; '"+fi.Name+"' is of type "+typ)
		}
	case opEq, opNe:
	case opIn, opNotIn:
		if k == kMulti {
			return b.fieldError(n, "invalid operator on multipicklist field '"+fi.Name+"': use =, !=, INCLUDES or EXCLUDES")
		}
	default: // <, <=, >, >=
		switch k {
		case kMulti:
			return b.fieldError(n, "invalid operator on multipicklist field '"+fi.Name+"': use =, !=, INCLUDES or EXCLUDES")
		case kBool:
			return b.fieldError(n, "invalid operator on boolean field '"+fi.Name+"': use = or !=")
		}
	}
	return nil
}

// literal checks one value token against the field and decodes it.
func (b *binder) literal(n *node, fi FieldInfo, k kind, t token) (val, *Error) {
	textual := n.op == opLike || n.op == opIncludes || n.op == opExcludes
	wrong := func() (val, *Error) {
		quoted := k == kText || k == kID || k == kMulti
		return val{}, b.fieldError(n, wrongValueType(fi.Name, typeName(fi.Type, k), quoted))
	}
	if isKeyword(t, "NULL") {
		if textual {
			return wrong()
		}
		return val{null: true}, nil
	}
	switch k {
	case kText, kID, kMulti:
		if t.kind != tString {
			return wrong()
		}
		if n.op == opLike {
			return val{like: compileLike(t.text[1 : len(t.text)-1])}, nil
		}
		if t.likeEsc >= 0 {
			return val{}, errorAt(CodeMalformedQuery, b.src, t.likeEsc,
				"Invalid string literal "+t.text+". Illegal character sequence '"+b.src[t.likeEsc:t.likeEsc+2]+"' in string literal; \\% and \\_ are allowed in LIKE patterns only.")
		}
		if t.str == "" && !textual {
			// Text fields store no empty strings: '' means null.
			return val{null: true}, nil
		}
		if k == kMulti {
			return val{s: t.str, items: splitMulti(t.str)}, nil
		}
		return val{s: t.str}, nil
	case kBool:
		switch {
		case isKeyword(t, "TRUE"):
			return val{b: true}, nil
		case isKeyword(t, "FALSE"):
			return val{b: false}, nil
		}
	case kNumber:
		if t.kind == tNumber {
			return val{n: t.num}, nil
		}
	case kDate:
		if t.kind == tDate {
			return val{t: t.t}, nil
		}
	case kDateTime:
		if t.kind == tDateTime {
			return val{t: t.t}, nil
		}
	case kTime:
		if t.kind == tTime {
			return val{t: t.t}, nil
		}
	}
	return wrong()
}

// splitMulti splits a multipicklist literal into its trimmed, non-empty
// values.
func splitMulti(s string) []string {
	var items []string
	for part := range strings.SplitSeq(s, ";") {
		if part = strings.TrimSpace(part); part != "" {
			items = append(items, part)
		}
	}
	return items
}

// bound narrows field's bounds by a comparison every matching record
// satisfies.
func (b *binder) bound(field string, op opKind, t time.Time) {
	if op != opEq && op != opLt && op != opLe && op != opGt && op != opGe {
		return
	}
	if b.bounds == nil {
		b.bounds = map[string]*Bounds{}
	}
	r := b.bounds[field]
	if r == nil {
		r = &Bounds{}
		b.bounds[field] = r
	}
	if (op == opEq || op == opGt || op == opGe) && (r.From.IsZero() || t.After(r.From)) {
		r.From = t
	}
	if (op == opEq || op == opLt || op == opLe) && (r.To.IsZero() || t.Before(r.To)) {
		r.To = t
	}
}
