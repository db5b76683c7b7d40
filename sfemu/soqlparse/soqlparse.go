// Package soqlparse parses and evaluates the subset of SOQL that the
// emulator serves on /query and /queryAll: a field list or COUNT(), one
// object, a WHERE clause of field comparisons joined by AND, OR and NOT,
// ORDER BY, LIMIT and OFFSET.
//
// Parse binds object and field names against a Schema (case-insensitively,
// to their canonical spelling), checks every literal against its field's
// type and compiles the WHERE and ORDER BY clauses into small closures over
// pre-parsed literals, so Match and Less neither allocate nor re-parse text
// per record. Failures are *Error values shaped like the platform's own: the
// message quotes the offending line of the query, a caret under the fault,
// "ERROR at Row:R:Column:C" and an explanation.
//
// Semantics follow the platform where it is documented:
//   - text comparisons (=, !=, <, >, LIKE, IN) ignore case; Id and reference
//     fields compare exactly, byte by byte;
//   - an empty text value is the same as null, for literals and records alike;
//   - null equals only null: a null field matches "= null" and every "!=",
//     NOT IN or EXCLUDES against a value, and never matches <, <=, >, >=,
//     LIKE or INCLUDES;
//   - datetime literals compare only with datetime fields, date literals only
//     with date fields and time literals only with time fields; offsets are
//     normalized to UTC;
//   - ORDER BY puts nulls first for ASC and last for DESC unless NULLS FIRST
//     or NULLS LAST says otherwise;
//   - AND and OR cannot be mixed without parentheses.
//
// Relationship paths (Owner.Name), aggregates other than COUNT(), GROUP BY,
// semi-joins, bind variables and relative date literals (TODAY, LAST_N_DAYS:n)
// are not supported and are reported as errors.
package soqlparse

import "time"

// Error codes carried by *Error, as the REST API reports them.
const (
	// CodeMalformedQuery: the text is not valid SOQL.
	CodeMalformedQuery = "MALFORMED_QUERY"
	// CodeInvalidField: a field is unknown, or cannot be used where it
	// appears, or is compared with a value of the wrong type.
	CodeInvalidField = "INVALID_FIELD"
	// CodeInvalidType: the object is unknown.
	CodeInvalidType = "INVALID_TYPE"
	// CodeNumberOutsideValidRange: a number is too large, or OFFSET is above
	// MaxOffset.
	CodeNumberOutsideValidRange = "NUMBER_OUTSIDE_VALID_RANGE"
)

// MaxOffset is the largest OFFSET the platform accepts.
const MaxOffset = 2000

// FieldInfo is what the parser needs to know about one field of an object.
// Type is the describe type in lower case ("datetime", "date", "time",
// "string", "textarea", "picklist", "multipicklist", "id", "reference",
// "boolean", "int", "long", "double", "currency", "percent", "email",
// "phone", "url", "address", "location", "base64", ...). Unknown types are
// treated as text.
type FieldInfo struct {
	Name       string
	Type       string
	Filterable bool
	Sortable   bool
}

// Schema resolves object names. Lookups are case-insensitive.
type Schema interface {
	Object(name string) (ObjectSchema, bool)
}

// ObjectSchema resolves the fields of one object. Field lookups are
// case-insensitive; Name returns the object's canonical name and FieldInfo
// carries each field's canonical name.
type ObjectSchema interface {
	Name() string
	Field(name string) (FieldInfo, bool)
}

// Record is one row being filtered or sorted. Get receives a canonical field
// name and returns nil (null), string, bool, int64, float64 or time.Time
// (datetimes in UTC; dates at 00:00 UTC; times on 1970-01-01 UTC). A value of
// any other type is treated as matching nothing and sorts as null.
type Record interface {
	Get(field string) any
}

// Query is a parsed and bound SOQL statement. It is immutable after Parse and
// safe for concurrent use.
type Query struct {
	// Object is the canonical object name.
	Object string
	// Count reports SELECT COUNT().
	Count bool
	// Fields holds the canonical names of the selected fields in SELECT
	// order; empty for COUNT().
	Fields []string
	// Limit is the LIMIT value, or -1 when there is none.
	Limit int
	// Offset is the OFFSET value, or 0 when there is none.
	Offset int

	where  matcher
	order  []sortKey
	bounds map[string]*Bounds
}

// Bounds is a closed range of datetimes; a zero end is open.
type Bounds struct {
	From, To time.Time
}

// Parse parses soql, resolves its object and field names through s and
// checks its literals. On failure it returns an *Error.
func Parse(soql string, s Schema) (*Query, error) {
	q, e := parse(soql, s)
	if e != nil {
		return nil, e
	}
	return q, nil
}

// Match reports whether r satisfies the WHERE clause. Every record matches a
// query without one.
func (q *Query) Match(r Record) bool {
	if q.where == nil {
		return true
	}
	return q.where(r)
}

// Less reports whether a sorts before b under ORDER BY. It is a strict weak
// ordering; records equal on every key (and all records, when there is no
// ORDER BY) are not less than each other, so callers wanting a repeatable
// order use a stable sort.
func (q *Query) Less(a, b Record) bool {
	for i := range q.order {
		if c := q.order[i].compare(a, b); c != 0 {
			return c < 0
		}
	}
	return false
}

// DateTimeBounds returns a range holding the value of datetime field (a
// canonical name) in every record the WHERE clause matches, from its
// comparisons (=, <, <=, >, >=) joined by AND at the top of the clause;
// ok is false when there are none. The range may hold more than the
// clause allows (strict comparisons are reported as inclusive), so it
// selects candidates that Match still has to check; nulls are outside it.
func (q *Query) DateTimeBounds(field string) (b Bounds, ok bool) {
	r, ok := q.bounds[field]
	if !ok {
		return Bounds{}, false
	}
	return *r, true
}

// Ordered reports whether the query has an ORDER BY clause.
func (q *Query) Ordered() bool { return len(q.order) > 0 }
