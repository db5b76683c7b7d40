package soql

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sfsync/sfsync"
)

// Dir is a sort direction for ORDER BY.
type Dir string

// Sort directions.
const (
	Asc  Dir = "ASC"
	Desc Dir = "DESC"
)

// Builder assembles one SELECT statement. Object and field names must come
// from the object's describe and look like API names; conditions given to
// Where are checked for balanced parentheses and quotes and wrapped in
// parentheses. Problems are collected and reported by Build, so a chain of
// calls needs one error check at the end.
//
// A Builder is not safe for concurrent use.
type Builder struct {
	obj    *sfsync.Object
	count  bool
	fields []string
	conds  []string
	order  []string
	limit  int
	errs   []error
}

// Select starts a query of the given fields of obj. Every field must be a
// field of obj's describe (matched case-insensitively and rendered as
// describe spells it); compound parents and duplicates are refused.
func Select(obj *sfsync.Object, fields []sfsync.Field) *Builder {
	b := &Builder{obj: obj}
	if !b.checkObject() {
		return b
	}
	if len(fields) == 0 {
		b.errs = append(b.errs, fmt.Errorf("select from %s: no fields", obj.Name))
		return b
	}
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		d, ok := b.field(f.Name)
		if !ok {
			continue
		}
		key := strings.ToLower(d.Name)
		if seen[key] {
			b.errs = append(b.errs, fmt.Errorf("select from %s: field %s listed twice", obj.Name, d.Name))
			continue
		}
		seen[key] = true
		if d.Kind() == sfsync.KindCompound {
			b.errs = append(b.errs, fmt.Errorf("select from %s: field %s is a compound %s field; select its components instead", obj.Name, d.Name, d.Type))
			continue
		}
		b.fields = append(b.fields, d.Name)
	}
	return b
}

// Count starts a SELECT COUNT() query of obj.
func Count(obj *sfsync.Object) *Builder {
	b := &Builder{obj: obj, count: true}
	b.checkObject()
	return b
}

func (b *Builder) checkObject() bool {
	if b.obj == nil {
		b.errs = append(b.errs, errors.New("query: no object"))
		return false
	}
	if !ValidName(b.obj.Name) {
		b.errs = append(b.errs, fmt.Errorf("query: object name %q is not a Salesforce API name", b.obj.Name))
		return false
	}
	return true
}

// field resolves name against the describe, recording an error when it is
// not a valid name or not a field of the object.
func (b *Builder) field(name string) (sfsync.Field, bool) {
	if b.obj == nil {
		return sfsync.Field{}, false
	}
	if !ValidName(name) {
		b.errs = append(b.errs, fmt.Errorf("query %s: field name %q is not a Salesforce API name", b.obj.Name, name))
		return sfsync.Field{}, false
	}
	f, ok := b.obj.Field(name)
	if !ok {
		b.errs = append(b.errs, fmt.Errorf("query %s: field %s is not in the object's describe", b.obj.Name, name))
		return sfsync.Field{}, false
	}
	if !ValidName(f.Name) {
		b.errs = append(b.errs, fmt.Errorf("query %s: described field name %q is not a Salesforce API name", b.obj.Name, f.Name))
		return sfsync.Field{}, false
	}
	return f, true
}

// Where adds a pre-built condition, ANDed with the others and wrapped in
// parentheses. The condition must have balanced parentheses and complete
// string literals (see CheckCondition); otherwise Build fails.
func (b *Builder) Where(cond string) *Builder {
	if err := CheckCondition(cond); err != nil {
		b.errs = append(b.errs, fmt.Errorf("condition %q: %w", excerpt(cond), err))
		return b
	}
	b.conds = append(b.conds, "("+strings.TrimSpace(cond)+")")
	return b
}

// Ge adds the condition field >= literal. The literal must be one value
// made by this package (Quote, DateTime, Date, ...) or a plain number,
// boolean or null.
func (b *Builder) Ge(field, literal string) *Builder {
	return b.compare(field, ">=", literal)
}

// Lt adds the condition field < literal, with the same rules as Ge.
func (b *Builder) Lt(field, literal string) *Builder {
	return b.compare(field, "<", literal)
}

func (b *Builder) compare(field, op, literal string) *Builder {
	f, ok := b.field(field)
	if !ok {
		return b
	}
	if err := checkLiteral(literal); err != nil {
		b.errs = append(b.errs, fmt.Errorf("query %s: value for %s: %w", b.obj.Name, f.Name, err))
		return b
	}
	b.conds = append(b.conds, f.Name+" "+op+" "+literal)
	return b
}

// OrderBy adds a sort key.
func (b *Builder) OrderBy(field string, dir Dir) *Builder {
	f, ok := b.field(field)
	if !ok {
		return b
	}
	if dir != Asc && dir != Desc {
		b.errs = append(b.errs, fmt.Errorf("query %s: sort direction %q: want ASC or DESC", b.obj.Name, string(dir)))
		return b
	}
	b.order = append(b.order, f.Name+" "+string(dir))
	return b
}

// Limit caps the number of records; n must be positive.
func (b *Builder) Limit(n int) *Builder {
	if n <= 0 {
		b.errs = append(b.errs, fmt.Errorf("query limit %d: want a positive number", n))
		return b
	}
	b.limit = n
	return b
}

// Err reports every problem found so far, or nil.
func (b *Builder) Err() error {
	return errors.Join(b.errs...)
}

// Build renders the statement, or reports every problem found.
func (b *Builder) Build() (string, error) {
	if err := b.Err(); err != nil {
		return "", err
	}
	var s strings.Builder
	s.WriteString("SELECT ")
	if b.count {
		s.WriteString("COUNT()")
	} else {
		s.WriteString(strings.Join(b.fields, ", "))
	}
	s.WriteString(" FROM ")
	s.WriteString(b.obj.Name)
	if len(b.conds) > 0 {
		s.WriteString(" WHERE ")
		s.WriteString(strings.Join(b.conds, " AND "))
	}
	if len(b.order) > 0 && !b.count {
		s.WriteString(" ORDER BY ")
		s.WriteString(strings.Join(b.order, ", "))
	}
	if b.limit > 0 {
		s.WriteString(" LIMIT ")
		s.WriteString(strconv.Itoa(b.limit))
	}
	return s.String(), nil
}

// String renders the statement, or returns "" when the builder holds an
// error (so an invalid statement can never be sent by mistake). Use Build to
// see the error.
func (b *Builder) String() string {
	s, err := b.Build()
	if err != nil {
		return ""
	}
	return s
}

// ValidName reports whether s looks like a Salesforce API name of an object
// or field: a letter followed by letters, digits and underscores.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// CheckCondition checks a SOQL condition from configuration before it is
// wrapped in parentheses and ANDed to a query: string literals must be
// closed, parentheses balanced (outside literals), double quotes and control
// characters other than whitespace absent (outside literals), and the
// condition must not be empty.
func CheckCondition(cond string) error {
	if strings.TrimSpace(cond) == "" {
		return errors.New("empty condition")
	}
	depth := 0
	inString := false
	start := 0
	for i := 0; i < len(cond); i++ {
		c := cond[i]
		if inString {
			switch c {
			case '\\':
				if i+1 >= len(cond) {
					return fmt.Errorf("string literal at byte %d ends in a lone backslash", start)
				}
				i++
			case '\'':
				inString = false
			}
			continue
		}
		switch {
		case c == '\'':
			inString, start = true, i
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return fmt.Errorf("unbalanced parentheses: ')' at byte %d has no '('", i)
			}
		case c == '"':
			return fmt.Errorf("double quote at byte %d: SOQL strings use single quotes", i)
		case c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r', c == 0x7f:
			return fmt.Errorf("control character %q at byte %d", c, i)
		}
	}
	if inString {
		return fmt.Errorf("string literal opened at byte %d is not closed", start)
	}
	if depth > 0 {
		return fmt.Errorf("unbalanced parentheses: %d '(' not closed", depth)
	}
	return nil
}

// checkLiteral accepts one complete quoted string, or one bare token made of
// letters, digits and the punctuation of numbers, dates and datetimes.
func checkLiteral(lit string) error {
	if lit == "" {
		return errors.New("empty literal")
	}
	if lit[0] == '\'' {
		for i := 1; i < len(lit); i++ {
			switch lit[i] {
			case '\\':
				i++
			case '\'':
				if i != len(lit)-1 {
					return fmt.Errorf("literal %q has text after its closing quote", excerpt(lit))
				}
				return nil
			}
		}
		return fmt.Errorf("literal %q is not closed", excerpt(lit))
	}
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == ':' || c == '.' || c == '+' || c == '-' || c == '_') {
			return fmt.Errorf("literal %q: character %q is not allowed in an unquoted value; use Quote for strings", excerpt(lit), c)
		}
	}
	return nil
}

// excerpt shortens s for an error message.
func excerpt(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
