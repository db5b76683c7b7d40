package soqlparse

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testSchema is a tiny in-memory schema: object name → its fields.
type testSchema map[string]*testObject

type testObject struct {
	name   string
	fields []FieldInfo
}

func (s testSchema) Object(name string) (ObjectSchema, bool) {
	o, ok := s[strings.ToLower(name)]
	if !ok {
		return nil, false
	}
	return o, true
}

func (o *testObject) Name() string { return o.name }

func (o *testObject) Field(name string) (FieldInfo, bool) {
	for _, f := range o.fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return FieldInfo{}, false
}

func fld(name, typ string) FieldInfo {
	return FieldInfo{Name: name, Type: typ, Filterable: true, Sortable: true}
}

func newTestSchema() testSchema {
	return testSchema{
		"account": {name: "Account", fields: []FieldInfo{
			fld("Id", "id"),
			fld("Name", "string"),
			{Name: "Description", Type: "textarea", Filterable: false, Sortable: false},
			fld("Industry", "picklist"),
			{Name: "Tags__c", Type: "multipicklist", Filterable: true, Sortable: false},
			fld("OwnerId", "reference"),
			fld("IsDeleted", "boolean"),
			fld("NumberOfEmployees", "int"),
			fld("AnnualRevenue", "currency"),
			fld("Score__c", "double"),
			fld("Big__c", "long"),
			fld("CreatedDate", "datetime"),
			fld("SystemModstamp", "datetime"),
			fld("Founded__c", "date"),
			fld("Opens__c", "time"),
			// Filterable on purpose: compound fields are refused by type.
			fld("BillingAddress", "address"),
			fld("BillingCity", "textarea"),
		}},
		"order": {name: "Order", fields: []FieldInfo{fld("Id", "id"), fld("Status", "picklist")}},
	}
}

// rec is a record backed by a map of canonical field names.
type rec map[string]any

func (r rec) Get(f string) any { return r[f] }

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

var errorPosRE = regexp.MustCompile(`\nERROR at Row:(\d+):Column:(\d+)\n`)

// errorPos checks the shape of an *Error message (leading newline, the
// query line, a caret under the column, the row and column line) and
// returns the row and column.
func errorPos(t *testing.T, soql string, e *Error) (row, col int) {
	t.Helper()
	m := errorPosRE.FindStringSubmatch(e.Message)
	if m == nil {
		t.Fatalf("message has no row/column line: %q", e.Message)
	}
	row, _ = strconv.Atoi(m[1])
	col, _ = strconv.Atoi(m[2])
	parts := strings.SplitN(e.Message, "\n", 4)
	if len(parts) < 4 || parts[0] != "" {
		t.Fatalf("message does not start with newline, line, caret: %q", e.Message)
	}
	lines := strings.Split(soql, "\n")
	if row < 1 || row > len(lines) {
		t.Fatalf("row %d outside the query's %d lines", row, len(lines))
	}
	if want := strings.TrimSuffix(lines[row-1], "\r"); parts[1] != want {
		t.Errorf("quoted line = %q, want %q", parts[1], want)
	}
	caret := []rune(parts[2])
	if len(caret) != col || caret[col-1] != '^' || strings.TrimLeft(string(caret[:col-1]), " \t") != "" {
		t.Errorf("caret line %q does not point at column %d", parts[2], col)
	}
	return row, col
}
