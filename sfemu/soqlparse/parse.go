package soqlparse

import "strings"

// maxDepth bounds the nesting of parentheses and NOT in a WHERE clause.
const maxDepth = 500

// maxLimit is the largest LIMIT accepted.
const maxLimit = 1<<31 - 1

type opKind uint8

const (
	opEq opKind = iota
	opNe
	opLt
	opLe
	opGt
	opGe
	opLike
	opIn
	opNotIn
	opIncludes
	opExcludes
)

type nodeKind uint8

const (
	nCmp nodeKind = iota
	nAnd
	nOr
	nNot
)

// node is one WHERE clause element: a field comparison or a logical
// operator over its kids.
type node struct {
	kind  nodeKind
	kids  []*node
	field token
	op    opKind
	vals  []token
}

type nullsOrder uint8

const (
	nullsDefault nullsOrder = iota
	nullsFirst
	nullsLast
)

type orderItem struct {
	field token
	desc  bool
	nulls nullsOrder
}

// stmt is a parsed, unbound statement.
type stmt struct {
	count  bool
	fields []token
	object token
	where  *node
	order  []orderItem
	limit  int
	offset int
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func parseStmt(src string) (*stmt, *Error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	return p.stmt()
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func isKeyword(t token, kw string) bool {
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

// reserved reports words that cannot name a field.
func reserved(word string) bool {
	switch strings.ToUpper(word) {
	case "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "INCLUDES", "EXCLUDES",
		"ORDER", "BY", "ASC", "DESC", "NULLS", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE",
		"GROUP", "HAVING", "WITH", "USING", "FOR":
		return true
	}
	return false
}

func (p *parser) fail(t token) *Error {
	return errorAt(CodeMalformedQuery, p.src, t.pos, unexpected(t))
}

func (p *parser) keyword(kw string) *Error {
	if t := p.next(); !isKeyword(t, kw) {
		return p.fail(t)
	}
	return nil
}

func (p *parser) punct(k tokKind) *Error {
	if t := p.next(); t.kind != k {
		return p.fail(t)
	}
	return nil
}

func (p *parser) stmt() (*stmt, *Error) {
	s := &stmt{limit: -1}
	if err := p.keyword("SELECT"); err != nil {
		return nil, err
	}
	if isKeyword(p.peek(), "COUNT") && p.toks[p.i+1].kind == tLParen {
		p.i += 2
		if err := p.punct(tRParen); err != nil {
			return nil, err
		}
		s.count = true
	} else {
		for {
			f, err := p.fieldName()
			if err != nil {
				return nil, err
			}
			s.fields = append(s.fields, f)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if err := p.keyword("FROM"); err != nil {
		return nil, err
	}
	obj := p.next()
	if obj.kind != tIdent || strings.Contains(obj.text, ".") {
		return nil, p.fail(obj)
	}
	s.object = obj

	if isKeyword(p.peek(), "WHERE") {
		p.next()
		w, err := p.cond()
		if err != nil {
			return nil, err
		}
		s.where = w
	}
	if isKeyword(p.peek(), "ORDER") {
		p.next()
		if err := p.keyword("BY"); err != nil {
			return nil, err
		}
		for {
			it, err := p.orderItem()
			if err != nil {
				return nil, err
			}
			s.order = append(s.order, it)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if isKeyword(p.peek(), "LIMIT") {
		p.next()
		n, err := p.count(maxLimit, "LIMIT must be at most 2147483647")
		if err != nil {
			return nil, err
		}
		s.limit = n
	}
	if isKeyword(p.peek(), "OFFSET") {
		p.next()
		n, err := p.count(MaxOffset, "Maximum SOQL offset allowed is 2000")
		if err != nil {
			return nil, err
		}
		s.offset = n
	}
	if t := p.next(); t.kind != tEOF {
		return nil, p.fail(t)
	}
	return s, nil
}

// count reads the non-negative integer after LIMIT or OFFSET.
func (p *parser) count(maxN int64, tooBig string) (int, *Error) {
	t := p.next()
	if t.kind != tNumber || t.text[0] == '-' || t.text[0] == '+' || strings.ContainsAny(t.text, ".eE") {
		return 0, p.fail(t)
	}
	if !t.num.isInt || t.num.i > maxN {
		return 0, errorAt(CodeNumberOutsideValidRange, p.src, t.pos, tooBig)
	}
	return int(t.num.i), nil
}

func (p *parser) fieldName() (token, *Error) {
	t := p.next()
	if t.kind != tIdent || reserved(t.text) {
		return token{}, p.fail(t)
	}
	return t, nil
}

func (p *parser) orderItem() (orderItem, *Error) {
	f, err := p.fieldName()
	if err != nil {
		return orderItem{}, err
	}
	it := orderItem{field: f}
	switch t := p.peek(); {
	case isKeyword(t, "ASC"):
		p.next()
	case isKeyword(t, "DESC"):
		p.next()
		it.desc = true
	}
	if isKeyword(p.peek(), "NULLS") {
		p.next()
		switch t := p.next(); {
		case isKeyword(t, "FIRST"):
			it.nulls = nullsFirst
		case isKeyword(t, "LAST"):
			it.nulls = nullsLast
		default:
			return orderItem{}, p.fail(t)
		}
	}
	return it, nil
}

// cond parses a condition: terms joined all by AND or all by OR, since
// mixing them needs parentheses.
func (p *parser) cond() (*node, *Error) {
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	var kind nodeKind
	var joiner string
	switch t := p.peek(); {
	case isKeyword(t, "AND"):
		kind, joiner = nAnd, "AND"
	case isKeyword(t, "OR"):
		kind, joiner = nOr, "OR"
	default:
		return first, nil
	}
	n := &node{kind: kind, kids: []*node{first}}
	for {
		t := p.peek()
		if !isKeyword(t, "AND") && !isKeyword(t, "OR") {
			return n, nil
		}
		if !isKeyword(t, joiner) {
			return nil, p.fail(t)
		}
		p.next()
		k, err := p.unary()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, k)
	}
}

func (p *parser) enter(t token) *Error {
	p.depth++
	if p.depth > maxDepth {
		return errorAt(CodeMalformedQuery, p.src, t.pos, "condition nested too deeply")
	}
	return nil
}

func (p *parser) unary() (*node, *Error) {
	t := p.peek()
	if isKeyword(t, "NOT") {
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		x, err := p.unary()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &node{kind: nNot, kids: []*node{x}}, nil
	}
	if t.kind == tLParen {
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		x, err := p.cond()
		p.depth--
		if err != nil {
			return nil, err
		}
		if err := p.punct(tRParen); err != nil {
			return nil, err
		}
		return x, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (*node, *Error) {
	f, err := p.fieldName()
	if err != nil {
		return nil, err
	}
	n := &node{kind: nCmp, field: f}
	t := p.next()
	switch {
	case t.kind == tOp:
		n.op = comparisonOp(t.text)
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.vals = []token{v}
	case isKeyword(t, "LIKE"):
		n.op = opLike
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.vals = []token{v}
	case isKeyword(t, "IN"), isKeyword(t, "INCLUDES"), isKeyword(t, "EXCLUDES"):
		n.op = opIn
		if isKeyword(t, "INCLUDES") {
			n.op = opIncludes
		} else if isKeyword(t, "EXCLUDES") {
			n.op = opExcludes
		}
		if n.vals, err = p.list(); err != nil {
			return nil, err
		}
	case isKeyword(t, "NOT"):
		if err := p.keyword("IN"); err != nil {
			return nil, err
		}
		n.op = opNotIn
		if n.vals, err = p.list(); err != nil {
			return nil, err
		}
	default:
		return nil, p.fail(t)
	}
	return n, nil
}

// comparisonOp maps the text of a tOp token to its operator.
func comparisonOp(text string) opKind {
	switch text {
	case "!=", "<>":
		return opNe
	case "<":
		return opLt
	case "<=":
		return opLe
	case ">":
		return opGt
	case ">=":
		return opGe
	}
	return opEq
}

func (p *parser) value() (token, *Error) {
	t := p.next()
	switch t.kind {
	case tString, tNumber, tDate, tDateTime, tTime:
		return t, nil
	case tIdent:
		if isKeyword(t, "TRUE") || isKeyword(t, "FALSE") || isKeyword(t, "NULL") {
			return t, nil
		}
	}
	return token{}, p.fail(t)
}

func (p *parser) list() ([]token, *Error) {
	if err := p.punct(tLParen); err != nil {
		return nil, err
	}
	var vals []token
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		t := p.next()
		if t.kind == tRParen {
			return vals, nil
		}
		if t.kind != tComma {
			return nil, p.fail(t)
		}
	}
}
