package sfemu

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Formula fields are evaluated at read time from a small formula language:
// field names, numbers, 'text' or "text" literals, TRUE, FALSE, NULL,
// + - * / on numbers (+ also joins text), & to join text (null reads as
// empty), unary minus and parentheses. Arithmetic with a null is null,
// as is division by zero.

type formulaExpr interface {
	eval(o *sobject, row int32) any
}

type (
	litExpr   struct{ v any }
	fieldExpr struct{ f *field }
	negExpr   struct{ x formulaExpr }
	binExpr   struct {
		op   byte
		l, r formulaExpr
	}
)

func (e litExpr) eval(*sobject, int32) any { return e.v }

func (e fieldExpr) eval(o *sobject, row int32) any {
	return cellValue(e.f.kind, o.get(e.f.col, row))
}

func (e negExpr) eval(o *sobject, row int32) any {
	x, ok := number(e.x.eval(o, row))
	if !ok {
		return nil
	}
	return -x
}

func (e binExpr) eval(o *sobject, row int32) any {
	l, r := e.l.eval(o, row), e.r.eval(o, row)
	if e.op == '&' {
		return formulaText(l) + formulaText(r)
	}
	if e.op == '+' {
		ls, lok := l.(string)
		rs, rok := r.(string)
		if lok && rok {
			return ls + rs
		}
	}
	a, aok := number(l)
	b, bok := number(r)
	if !aok || !bok {
		return nil
	}
	switch e.op {
	case '+':
		return a + b
	case '-':
		return a - b
	case '*':
		return a * b
	case '/':
		if b == 0 {
			return nil
		}
		return a / b
	}
	return nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func formulaText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

// formulaValue evaluates formula field f for row, or returns the drift
// value when SetFormulaDrift is in force.
func (o *sobject) formulaValue(f *field, row int32) any {
	var v any
	if o.hasDrift {
		v = o.drift
	} else if f.expr != nil {
		v = f.expr.eval(o, row)
	}
	return coerce(f, v)
}

// coerce converts a formula result to the Go type of f's values, or nil
// when it cannot.
func coerce(f *field, v any) any {
	if v == nil {
		return nil
	}
	if f.kind == vkString {
		s := formulaText(v)
		if s == "" {
			return nil
		}
		return s
	}
	c, err := f.convertValue(v)
	if err != nil {
		return nil
	}
	return cellValue(f.kind, c)
}

// compileFormula parses src against o's stored fields.
func compileFormula(o *sobject, src string) (formulaExpr, error) {
	p := &formulaParser{o: o, src: src}
	p.next()
	e, err := p.concat()
	if err != nil {
		return nil, err
	}
	if p.tok != tokEOF {
		return nil, p.errorf("unexpected %q", p.text)
	}
	return e, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokNum
	tokStr
	tokIdent
	tokOp
)

type formulaParser struct {
	o    *sobject
	src  string
	pos  int
	tok  tokKind
	text string
	at   int
	err  error
}

func (p *formulaParser) errorf(format string, args ...any) error {
	return fmt.Errorf("formula %q at column %d: %s", p.src, p.at+1, fmt.Sprintf(format, args...))
}

func (p *formulaParser) next() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
	p.at = p.pos
	if p.pos >= len(p.src) {
		p.tok, p.text = tokEOF, ""
		return
	}
	c := p.src[p.pos]
	switch {
	case c >= '0' && c <= '9' || c == '.':
		start := p.pos
		for p.pos < len(p.src) && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9' || p.src[p.pos] == '.') {
			p.pos++
		}
		p.tok, p.text = tokNum, p.src[start:p.pos]
	case c == '\'' || c == '"':
		p.pos++
		var b strings.Builder
		for p.pos < len(p.src) && p.src[p.pos] != c {
			if p.src[p.pos] == '\\' && p.pos+1 < len(p.src) {
				p.pos++
			}
			b.WriteByte(p.src[p.pos])
			p.pos++
		}
		if p.pos >= len(p.src) {
			p.err = p.errorf("unterminated text literal")
			p.tok, p.text = tokEOF, ""
			return
		}
		p.pos++
		p.tok, p.text = tokStr, b.String()
	case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		start := p.pos
		for p.pos < len(p.src) {
			d := p.src[p.pos]
			if !(d == '_' || d >= 'A' && d <= 'Z' || d >= 'a' && d <= 'z' || d >= '0' && d <= '9') {
				break
			}
			p.pos++
		}
		p.tok, p.text = tokIdent, p.src[start:p.pos]
	default:
		p.pos++
		p.tok, p.text = tokOp, string(c)
	}
}

func (p *formulaParser) binary(ops string, sub func() (formulaExpr, error)) (formulaExpr, error) {
	l, err := sub()
	if err != nil {
		return nil, err
	}
	for p.tok == tokOp && strings.Contains(ops, p.text) {
		op := p.text[0]
		p.next()
		r, err := sub()
		if err != nil {
			return nil, err
		}
		l = binExpr{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *formulaParser) concat() (formulaExpr, error)   { return p.binary("&", p.additive) }
func (p *formulaParser) additive() (formulaExpr, error) { return p.binary("+-", p.term) }
func (p *formulaParser) term() (formulaExpr, error)     { return p.binary("*/", p.unary) }

func (p *formulaParser) unary() (formulaExpr, error) {
	if p.tok == tokOp && p.text == "-" {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return negExpr{x: x}, nil
	}
	return p.primary()
}

func (p *formulaParser) primary() (formulaExpr, error) {
	if p.err != nil {
		return nil, p.err
	}
	switch p.tok {
	case tokNum:
		v, err := strconv.ParseFloat(p.text, 64)
		if err != nil {
			return nil, p.errorf("bad number %q", p.text)
		}
		p.next()
		return litExpr{v: v}, nil
	case tokStr:
		s := p.text
		p.next()
		return litExpr{v: s}, nil
	case tokIdent:
		name := p.text
		switch strings.ToUpper(name) {
		case "TRUE":
			p.next()
			return litExpr{v: true}, nil
		case "FALSE":
			p.next()
			return litExpr{v: false}, nil
		case "NULL":
			p.next()
			return litExpr{v: nil}, nil
		}
		f, ok := p.o.field(name)
		if !ok {
			return nil, p.errorf("no field %s on %s", name, p.o.Name)
		}
		if !f.stored() {
			return nil, p.errorf("field %s is a formula or compound field and cannot be used in a formula", f.Name)
		}
		p.next()
		return fieldExpr{f: f}, nil
	case tokOp:
		if p.text == "(" {
			p.next()
			e, err := p.concat()
			if err != nil {
				return nil, err
			}
			if p.tok != tokOp || p.text != ")" {
				return nil, p.errorf("missing )")
			}
			p.next()
			return e, nil
		}
		return nil, p.errorf("unexpected %q", p.text)
	}
	return nil, p.errorf("unexpected end of formula")
}

// roundTo rounds x to scale decimal places.
func roundTo(x float64, scale int) float64 {
	if scale < 0 || scale > 15 {
		return x
	}
	p := math.Pow10(scale)
	return math.Round(x*p) / p
}
