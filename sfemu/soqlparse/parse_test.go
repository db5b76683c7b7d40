package soqlparse

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseSuccess(t *testing.T) {
	tests := []struct {
		name    string
		soql    string
		want    Query
		ordered bool
	}{
		{
			name: "fields",
			soql: "SELECT Id, Name FROM Account",
			want: Query{Object: "Account", Fields: []string{"Id", "Name"}, Limit: -1},
		},
		{
			name:    "case-insensitive keywords and names",
			soql:    "select id, NAME, systemmodstamp from account where name = 'x' order by name desc nulls first limit 5 offset 10",
			want:    Query{Object: "Account", Fields: []string{"Id", "Name", "SystemModstamp"}, Limit: 5, Offset: 10},
			ordered: true,
		},
		{
			name: "count",
			soql: "SELECT COUNT() FROM Account",
			want: Query{Object: "Account", Count: true, Limit: -1},
		},
		{
			name: "count with spaces and a filter",
			soql: "SELECT count ( ) FROM Account WHERE IsDeleted = false LIMIT 1",
			want: Query{Object: "Account", Count: true, Limit: 1},
		},
		{
			name: "whitespace of every kind",
			soql: "SELECT\tId ,\r\n Name\nFROM  Account\n",
			want: Query{Object: "Account", Fields: []string{"Id", "Name"}, Limit: -1},
		},
		{
			name: "object named like a keyword",
			soql: "SELECT Id, Status FROM Order ORDER BY Status",
			want: Query{Object: "Order", Fields: []string{"Id", "Status"}, Limit: -1}, ordered: true,
		},
		{
			name: "compound field may be selected",
			soql: "SELECT BillingAddress FROM Account",
			want: Query{Object: "Account", Fields: []string{"BillingAddress"}, Limit: -1},
		},
		{
			name: "largest offset and zero limit",
			soql: "SELECT Id FROM Account LIMIT 0 OFFSET 2000",
			want: Query{Object: "Account", Fields: []string{"Id"}, Limit: 0, Offset: 2000},
		},
		{
			name: "offset without limit",
			soql: "SELECT Id FROM Account OFFSET 3",
			want: Query{Object: "Account", Fields: []string{"Id"}, Limit: -1, Offset: 3},
		},
		{
			name: "window query the replicator sends",
			soql: "SELECT Id, Name, SystemModstamp FROM Account WHERE SystemModstamp >= 2024-01-01T00:00:00Z AND SystemModstamp < 2024-02-01T00:00:00Z ORDER BY SystemModstamp ASC, Id ASC LIMIT 2000",
			want: Query{Object: "Account", Fields: []string{"Id", "Name", "SystemModstamp"}, Limit: 2000}, ordered: true,
		},
		{
			name: "every literal and operator",
			soql: `SELECT Id FROM Account WHERE (CreatedDate > 2024-01-01T00:00:00+05:30 OR CreatedDate < 2024-01-01T00:00:00-08:00
				OR CreatedDate = 2024-01-01T00:00:00.000Z OR CreatedDate = 2024-01-01T00:00:00.000+0000)
				AND Founded__c <= 2000-02-29 AND Opens__c >= 09:30:00.000Z AND Opens__c != 10:00:00Z
				AND NumberOfEmployees IN (1, -2, +3) AND Score__c NOT IN (1.5, 2e3, -2.5E-2, 7.)
				AND IsDeleted <> TRUE AND Name LIKE 'a\%b%' AND Tags__c INCLUDES ('a;b', 'c')
				AND Tags__c EXCLUDES ('d') AND NOT Industry = null AND NOT (Name = 'x' OR Name = '\'\\\n\N\r\R\t\T\b\B\f\F\"\u00e9')
				AND OwnerId != '005000000000000AAA' AND Big__c > 9223372036854775807`,
			want: Query{Object: "Account", Fields: []string{"Id"}, Limit: -1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.soql, newTestSchema())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(&tt.want, q, cmpopts.IgnoreUnexported(Query{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
			if q.Ordered() != tt.ordered {
				t.Errorf("Ordered() = %v, want %v", q.Ordered(), tt.ordered)
			}
		})
	}
}

// TestParseReferenceMessage checks the full message against the example in
// the API reference.
func TestParseReferenceMessage(t *testing.T) {
	_, err := Parse("SELECT Foo FROM Account", newTestSchema())
	want := &Error{
		Code:    "INVALID_FIELD",
		Message: "\nSELECT Foo FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column 'Foo' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
	}
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if got := err.Error(); !strings.HasPrefix(got, "INVALID_FIELD: \nSELECT Foo") {
		t.Errorf("Error() = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	const acct = "SELECT Id FROM Account "
	tests := []struct {
		name     string
		soql     string
		code     string
		row, col int
		msg      string // substring of the explanation
	}{
		{"empty", "", CodeMalformedQuery, 1, 1, "unexpected token: <EOF>"},
		{"not select", "UPDATE Account", CodeMalformedQuery, 1, 1, "unexpected token: 'UPDATE'"},
		{"unknown object", "SELECT Id FROM Foo", CodeInvalidType, 1, 16, "sObject type 'Foo' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name."},
		{"unknown field in where", acct + "WHERE Foo__c = 1", CodeInvalidField, 1, 30, "No such column 'Foo__c' on entity 'Account'"},
		{"unknown field in order by", acct + "ORDER BY Nope", CodeInvalidField, 1, 33, "No such column 'Nope'"},
		{"multi-line", "SELECT Id\nFROM Account\nWHERE Foo = 1", CodeInvalidField, 3, 7, "No such column 'Foo'"},
		{"column counts characters", acct + "WHERE Name = 'é' AND Foo = 1", CodeInvalidField, 1, 45, "No such column 'Foo'"},
		{"tab before fault", "SELECT Id\n\tFROM Account WHERE Foo = 1", CodeInvalidField, 2, 21, "No such column 'Foo'"},
		{"where without condition", acct + "WHERE", CodeMalformedQuery, 1, 29, "unexpected token: <EOF>"},
		{"missing from", "SELECT Id", CodeMalformedQuery, 1, 10, "unexpected token: <EOF>"},
		{"missing object", "SELECT Id FROM", CodeMalformedQuery, 1, 15, "unexpected token: <EOF>"},
		{"trailing comma", "SELECT Id, FROM Account", CodeMalformedQuery, 1, 12, "unexpected token: 'FROM'"},
		{"missing comma", "SELECT Id Name FROM Account", CodeMalformedQuery, 1, 11, "unexpected token: 'Name'"},
		{"star", "SELECT * FROM Account", CodeMalformedQuery, 1, 8, "no viable alternative at character '*'"},
		{"aggregate", "SELECT COUNT(Id) FROM Account", CodeMalformedQuery, 1, 14, "unexpected token: 'Id'"},
		{"group by", acct + "GROUP BY Name", CodeMalformedQuery, 1, 24, "unexpected token: 'GROUP'"},
		{"alias", acct + "a", CodeMalformedQuery, 1, 24, "unexpected token: 'a'"},
		{"semicolon", acct + "WHERE Name = 'a';", CodeMalformedQuery, 1, 40, "no viable alternative at character ';'"},
		{"mixed and or", acct + "WHERE Name = 'a' AND Name = 'b' OR Name = 'c'", CodeMalformedQuery, 1, 56, "unexpected token: 'OR'"},
		{"mixed or and", acct + "WHERE Name = 'a' OR Name = 'b' AND Name = 'c'", CodeMalformedQuery, 1, 55, "unexpected token: 'AND'"},
		{"unclosed parenthesis", acct + "WHERE (Name = 'a'", CodeMalformedQuery, 1, 41, "unexpected token: <EOF>"},
		{"not like", acct + "WHERE Name NOT LIKE 'a'", CodeMalformedQuery, 1, 39, "unexpected token: 'LIKE'"},
		{"empty in list", acct + "WHERE Name IN ()", CodeMalformedQuery, 1, 39, "unexpected token: ')'"},
		{"relative date literal", acct + "WHERE CreatedDate > TODAY", CodeMalformedQuery, 1, 44, "unexpected token: 'TODAY'"},
		{"bind variable", acct + "WHERE Id = :ids", CodeMalformedQuery, 1, 35, "no viable alternative at character ':'"},
		{"too deep", acct + "WHERE " + strings.Repeat("(", maxDepth+1) + "Name = 'a'", CodeMalformedQuery, 1, 30 + maxDepth, "nested too deeply"},
		{"negative limit", acct + "LIMIT -1", CodeMalformedQuery, 1, 30, "unexpected token: '-1'"},
		{"fractional limit", acct + "LIMIT 1.5", CodeMalformedQuery, 1, 30, "unexpected token: '1.5'"},
		{"huge limit", acct + "LIMIT 99999999999", CodeNumberOutsideValidRange, 1, 30, "LIMIT must be at most"},
		{"offset over 2000", acct + "LIMIT 5 OFFSET 2001", CodeNumberOutsideValidRange, 1, 39, "Maximum SOQL offset allowed is 2000"},
		{"offset before limit", acct + "OFFSET 1 LIMIT 5", CodeMalformedQuery, 1, 33, "unexpected token: 'LIMIT'"},
		{"number out of range", acct + "WHERE Score__c > 1e999", CodeNumberOutsideValidRange, 1, 41, "number outside the valid range: 1e999"},
		{"bad number", acct + "WHERE Score__c > 1x", CodeMalformedQuery, 1, 41, "unexpected token: '1x'"},
		{"relationship path", "SELECT Owner.Name FROM Account", CodeInvalidField, 1, 8, "Didn't understand relationship 'Owner' in field path"},
		{"relationship path in where", acct + "WHERE Owner.Name = 'a'", CodeInvalidField, 1, 30, "relationship 'Owner'"},
		{"duplicate field", "SELECT Id, Name, id FROM Account", CodeMalformedQuery, 1, 18, "duplicate field selected: Id"},

		{"date literal on date field wrong kind", acct + "WHERE Founded__c > 2024-01-01T00:00:00Z", CodeInvalidField, 1, 30, "value of filter criterion for field 'Founded__c' must be of type date and should not be enclosed in quotes"},
		{"date literal on datetime field", acct + "WHERE CreatedDate > 2024-01-01", CodeInvalidField, 1, 30, "field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"},
		{"quoted datetime", acct + "WHERE CreatedDate > '2024-01-01T00:00:00Z'", CodeInvalidField, 1, 30, "field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"},
		{"number on datetime", acct + "WHERE CreatedDate > 5", CodeInvalidField, 1, 30, "must be of type dateTime"},
		{"datetime on time field", acct + "WHERE Opens__c > 2024-01-01T00:00:00Z", CodeInvalidField, 1, 30, "field 'Opens__c' must be of type time"},
		{"number on string", acct + "WHERE Name = 5", CodeInvalidField, 1, 30, "field 'Name' must be of type string and should be enclosed in quotes"},
		{"boolean on string", acct + "WHERE Name = true", CodeInvalidField, 1, 30, "must be of type string"},
		{"quoted number", acct + "WHERE NumberOfEmployees = '5'", CodeInvalidField, 1, 30, "field 'NumberOfEmployees' must be of type integer and should not be enclosed in quotes"},
		{"quoted currency", acct + "WHERE AnnualRevenue IN (1, '2')", CodeInvalidField, 1, 30, "must be of type currency"},
		{"quoted boolean", acct + "WHERE IsDeleted = 'true'", CodeInvalidField, 1, 30, "field 'IsDeleted' must be of type boolean and should not be enclosed in quotes"},
		{"number on id", acct + "WHERE Id = 5", CodeInvalidField, 1, 30, "field 'Id' must be of type id and should be enclosed in quotes"},
		{"like null", acct + "WHERE Name LIKE null", CodeInvalidField, 1, 30, "must be of type string"},
		{"like number", acct + "WHERE Name LIKE 5", CodeInvalidField, 1, 30, "must be of type string"},

		{"not filterable", acct + "WHERE Description = 'x'", CodeInvalidField, 1, 30, "field 'Description' can not be filtered in a query call"},
		{"compound in where", acct + "WHERE BillingAddress = null", CodeInvalidField, 1, 30, "field 'BillingAddress' can not be filtered"},
		{"not sortable", acct + "ORDER BY Id, Description DESC", CodeInvalidField, 1, 37, "field 'Description' can not be sorted in a query call"},
		{"compound in order by", acct + "ORDER BY BillingAddress", CodeInvalidField, 1, 33, "field 'BillingAddress' can not be sorted"},
		{"bad nulls", acct + "ORDER BY Name NULLS", CodeMalformedQuery, 1, 43, "unexpected token: <EOF>"},
		{"like on id", acct + "WHERE Id LIKE '001%'", CodeInvalidField, 1, 30, "LIKE applies to text fields only"},
		{"like on number", acct + "WHERE Score__c LIKE '1%'", CodeInvalidField, 1, 30, "LIKE applies to text fields only"},
		{"like on multipicklist", acct + "WHERE Tags__c LIKE 'a%'", CodeInvalidField, 1, 30, "LIKE applies to text fields only"},
		{"includes on text", acct + "WHERE Name INCLUDES ('a')", CodeInvalidField, 1, 30, "includes or excludes operator only valid on multipicklist field"},
		{"range on multipicklist", acct + "WHERE Tags__c > 'a'", CodeInvalidField, 1, 30, "invalid operator on multipicklist field"},
		{"in on multipicklist", acct + "WHERE Tags__c IN ('a')", CodeInvalidField, 1, 30, "invalid operator on multipicklist field"},
		{"range on boolean", acct + "WHERE IsDeleted < true", CodeInvalidField, 1, 30, "invalid operator on boolean field"},

		{"unterminated string", acct + "WHERE Name = 'abc", CodeMalformedQuery, 1, 37, "unterminated string literal"},
		{"bad escape", acct + `WHERE Name = 'a\qb'`, CodeMalformedQuery, 1, 39, `Illegal character sequence '\q' in string literal`},
		{"short unicode escape", acct + `WHERE Name = 'a\u00'`, CodeMalformedQuery, 1, 39, `Illegal character sequence '\u00''`},
		{"lone surrogate", acct + `WHERE Name = '\ud800x'`, CodeMalformedQuery, 1, 38, `Illegal character sequence '\ud800'`},
		{"like escape outside like", acct + `WHERE Name = 'a\%'`, CodeMalformedQuery, 1, 39, `Illegal character sequence '\%' in string literal`},
		{"datetime without zone", acct + "WHERE CreatedDate > 2024-01-01T00:00:00", CodeMalformedQuery, 1, 44, "invalid datetime: 2024-01-01T00:00:00"},
		{"unencoded plus", acct + "WHERE CreatedDate > 2024-01-01T00:00:00 05:30", CodeMalformedQuery, 1, 63, "no viable alternative at character ' '"},
		{"bad month", acct + "WHERE CreatedDate > 2024-13-01T00:00:00Z", CodeMalformedQuery, 1, 44, "invalid datetime"},
		{"bad zone", acct + "WHERE CreatedDate > 2024-01-01T00:00:00+5", CodeMalformedQuery, 1, 44, "invalid datetime"},
		{"bad day", acct + "WHERE Founded__c = 2023-02-29", CodeMalformedQuery, 1, 43, "invalid date: 2023-02-29"},
		{"bad time", acct + "WHERE Opens__c = 25:00:00Z", CodeMalformedQuery, 1, 41, "invalid time: 25:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.soql, newTestSchema())
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", q)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if e.Code != tt.code {
				t.Errorf("code = %s, want %s (%s)", e.Code, tt.code, e.Message)
			}
			row, col := errorPos(t, tt.soql, e)
			if row != tt.row || col != tt.col {
				t.Errorf("position = row %d column %d, want row %d column %d\n%s", row, col, tt.row, tt.col, e.Message)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.msg)
			}
		})
	}
}

func TestParseNilSchema(t *testing.T) {
	_, err := Parse("SELECT Id FROM Account", nil)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidType {
		t.Fatalf("err = %v, want INVALID_TYPE", err)
	}
}

func TestLexLiterals(t *testing.T) {
	tests := []struct {
		text string
		kind tokKind
		want any
	}{
		{"2024-01-01T00:00:00Z", tDateTime, ts("2024-01-01T00:00:00Z")},
		{"2024-01-01T05:30:00+05:30", tDateTime, ts("2024-01-01T00:00:00Z")},
		{"2023-12-31T19:00:00-05:00", tDateTime, ts("2024-01-01T00:00:00Z")},
		{"2024-01-01T00:00:00.000Z", tDateTime, ts("2024-01-01T00:00:00Z")},
		{"2024-01-01T00:00:00.000+0000", tDateTime, ts("2024-01-01T00:00:00Z")},
		{"2024-01-01T01:02:03.123456789-0130", tDateTime, ts("2024-01-01T02:32:03.123456789Z")},
		{"2024-02-29", tDate, ts("2024-02-29T00:00:00Z")},
		{"13:30:00.5Z", tTime, ts("1970-01-01T13:30:00.5Z")},
		{"42", tNumber, number{f: 42, i: 42, isInt: true}},
		{"-7", tNumber, number{f: -7, i: -7, isInt: true}},
		{"+7", tNumber, number{f: 7, i: 7, isInt: true}},
		{"1.50", tNumber, number{f: 1.5}},
		{"2e3", tNumber, number{f: 2000}},
		{"-2.5E-2", tNumber, number{f: -0.025}},
		{"99999999999999999999", tNumber, number{f: 1e20}},
		{`'it\'s \\ \"x\" \n\t\u00e9\uD83D\uDE00'`, tString, "it's \\ \"x\" \n\té😀"},
		{`'\N\R\T\B\F'`, tString, "\n\r\t\b\f"},
		{`''`, tString, ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			toks, err := lex(tt.text)
			if err != nil {
				t.Fatalf("lex: %v", err)
			}
			if len(toks) != 2 || toks[0].kind != tt.kind {
				t.Fatalf("tokens = %+v, want one of kind %d", toks, tt.kind)
			}
			var got any
			switch tt.kind {
			case tNumber:
				got = toks[0].num
			case tString:
				got = toks[0].str
			default:
				got = toks[0].t
				if toks[0].t.Location() != ts("2024-01-01T00:00:00Z").Location() {
					t.Errorf("location = %v, want UTC", toks[0].t.Location())
				}
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(number{})); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}
