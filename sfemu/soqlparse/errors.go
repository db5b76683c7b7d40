package soqlparse

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a query the platform would refuse. Code is one of the Code*
// constants; Message is the REST error message: the line of the query that
// holds the fault, a caret under it, "ERROR at Row:R:Column:C" (both
// 1-based, columns counted in characters) and the explanation.
type Error struct {
	Code    string
	Message string
}

// Error returns the code and the message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errorAt builds an *Error for a fault at byte offset pos of soql.
func errorAt(code, soql string, pos int, explanation string) *Error {
	pos = min(max(pos, 0), len(soql))
	lineStart := strings.LastIndexByte(soql[:pos], '\n') + 1
	lineEnd := len(soql)
	if i := strings.IndexByte(soql[pos:], '\n'); i >= 0 {
		lineEnd = pos + i
	}
	line := strings.TrimSuffix(soql[lineStart:lineEnd], "\r")
	row := strings.Count(soql[:lineStart], "\n") + 1
	before := soql[lineStart:pos]
	col := utf8.RuneCountInString(before) + 1

	var b strings.Builder
	b.Grow(2*len(line) + len(explanation) + 48)
	b.WriteByte('\n')
	b.WriteString(line)
	b.WriteByte('\n')
	for _, r := range before {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteString("^\nERROR at Row:")
	b.WriteString(strconv.Itoa(row))
	b.WriteString(":Column:")
	b.WriteString(strconv.Itoa(col))
	b.WriteByte('\n')
	b.WriteString(explanation)
	return &Error{Code: code, Message: b.String()}
}

// unexpected explains a token that does not belong where it is.
func unexpected(t token) string {
	if t.kind == tEOF {
		return "unexpected token: <EOF>"
	}
	return "unexpected token: '" + t.text + "'"
}

func noSuchColumn(field, object string) string {
	return "No such column '" + field + "' on entity '" + object + "'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
}

func notSupportedObject(object string) string {
	return "sObject type '" + object + "' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
}

func relationshipPath(path string) string {
	rel, _, _ := strings.Cut(path, ".")
	return "Didn't understand relationship '" + rel + "' in field path '" + path + "'. Relationship paths are not supported by the emulator; select and filter on the object's own fields."
}

func wrongValueType(field, typ string, quoted bool) string {
	q := "should not be enclosed in quotes"
	if quoted {
		q = "should be enclosed in quotes"
	}
	return "value of filter criterion for field '" + field + "' must be of type " + typ + " and " + q
}
