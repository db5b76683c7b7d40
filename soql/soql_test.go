package soql

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sfsync/sfsync"
)

// unquote reads a SOQL string literal back, by the escape table of the SOQL
// reference. It is written independently of Quote so the two check each
// other.
func unquote(lit string) (string, error) {
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return "", errors.New("not a quoted literal")
	}
	body := lit[1 : len(lit)-1]
	var out []byte
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '\'' {
			return "", errors.New("unescaped quote inside literal at " + strconv.Itoa(i))
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(body) {
			return "", errors.New("trailing backslash")
		}
		switch body[i] {
		case 'n', 'N':
			out = append(out, '\n')
		case 'r', 'R':
			out = append(out, '\r')
		case 't', 'T':
			out = append(out, '\t')
		case 'f', 'F':
			out = append(out, '\f')
		case '"', '\'', '\\':
			out = append(out, body[i])
		case 'u':
			if i+5 > len(body) {
				return "", errors.New("short \\u escape")
			}
			n, err := strconv.ParseUint(body[i+1:i+5], 16, 16)
			if err != nil {
				return "", err
			}
			out = utf8.AppendRune(out, rune(n))
			i += 4
		default:
			return "", errors.New("unknown escape \\" + string(body[i]))
		}
	}
	return string(out), nil
}

func TestQuote(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `''`},
		{"Acme", `'Acme'`},
		{"Bob's BBQ", `'Bob\'s BBQ'`},
		{`back\slash`, `'back\\slash'`},
		{`say "hi"`, `'say \"hi\"'`},
		{"two\nlines\r\n", `'two\nlines\r\n'`},
		{"tab\there", `'tab\there'`},
		{"nul\x00bell\x07del\x7f", `'nul\u0000bell\u0007del\u007f'`},
		{"café ☕", `'café ☕'`},
		{`\'`, `'\\\''`},
		{"100% _x_", `'100% _x_'`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := Quote(tt.in)
			if got != tt.want {
				t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
			}
			back, err := unquote(got)
			if err != nil || back != tt.in {
				t.Errorf("unquote(%s) = %q, %v; want %q", got, back, err, tt.in)
			}
		})
	}
}

func TestDateTime(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		name              string
		in                time.Time
		plain, floor, cei string
	}{
		{"whole second", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"},
		{"milliseconds", time.Date(2024, 1, 2, 3, 4, 5, 1e6, time.UTC), "2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z", "2024-01-02T03:04:06Z"},
		{"one nanosecond before midnight", time.Date(2024, 12, 31, 23, 59, 59, 999999999, time.UTC), "2024-12-31T23:59:59Z", "2024-12-31T23:59:59Z", "2025-01-01T00:00:00Z"},
		{"other zone", time.Date(2024, 1, 2, 0, 30, 0, 0, berlin), "2024-01-01T23:30:00Z", "2024-01-01T23:30:00Z", "2024-01-01T23:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DateTime(tt.in); got != tt.plain {
				t.Errorf("DateTime = %s, want %s", got, tt.plain)
			}
			if got := DateTimeFloor(tt.in); got != tt.floor {
				t.Errorf("DateTimeFloor = %s, want %s", got, tt.floor)
			}
			if got := DateTimeCeil(tt.in); got != tt.cei {
				t.Errorf("DateTimeCeil = %s, want %s", got, tt.cei)
			}
		})
	}
}

func TestDate(t *testing.T) {
	if got := Date(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)); got != "2024-02-29" {
		t.Errorf("Date = %s", got)
	}
}

func account() *sfsync.Object {
	return &sfsync.Object{
		ObjectInfo: sfsync.ObjectInfo{Name: "Account", Queryable: true},
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "Name", Type: sfsync.TypeString},
			{Name: "IsDeleted", Type: sfsync.TypeBoolean},
			{Name: "AnnualRevenue", Type: sfsync.TypeCurrency, Precision: 18, Scale: 2},
			{Name: "BillingAddress", Type: sfsync.TypeAddress},
			{Name: "BillingCity", Type: sfsync.TypeString, CompoundName: "BillingAddress"},
			{Name: "CreatedDate", Type: sfsync.TypeDateTime},
			{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
			{Name: "Birthday__c", Type: sfsync.TypeDate},
			{Name: "Bad Name", Type: sfsync.TypeString},
		},
	}
}

func fields(obj *sfsync.Object, names ...string) []sfsync.Field {
	var out []sfsync.Field
	for _, n := range names {
		f, ok := obj.Field(n)
		if !ok {
			f = sfsync.Field{Name: n, Type: sfsync.TypeString}
		}
		out = append(out, f)
	}
	return out
}

func TestBuilder(t *testing.T) {
	acc := account()
	tests := []struct {
		name    string
		build   func() *Builder
		want    string
		wantErr string
	}{
		{
			name:  "select",
			build: func() *Builder { return Select(acc, fields(acc, "Id", "Name")) },
			want:  "SELECT Id, Name FROM Account",
		},
		{
			name: "describe casing wins",
			build: func() *Builder {
				return Select(acc, []sfsync.Field{{Name: "id"}, {Name: "systemmodstamp"}}).OrderBy("SYSTEMMODSTAMP", Desc)
			},
			want: "SELECT Id, SystemModstamp FROM Account ORDER BY SystemModstamp DESC",
		},
		{
			name: "conditions",
			build: func() *Builder {
				return Select(acc, fields(acc, "Id")).
					Ge("SystemModstamp", DateTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))).
					Lt("Name", Quote("M'x")).
					Where("IsDeleted = false OR Name LIKE 'A(%'").
					OrderBy("Id", Asc).Limit(10)
			},
			want: `SELECT Id FROM Account WHERE SystemModstamp >= 2024-01-01T00:00:00Z AND Name < 'M\'x' AND (IsDeleted = false OR Name LIKE 'A(%') ORDER BY Id ASC LIMIT 10`,
		},
		{
			name:  "count",
			build: func() *Builder { return Count(acc).Where("Name != null").OrderBy("Id", Asc) },
			want:  "SELECT COUNT() FROM Account WHERE (Name != null)",
		},
		{name: "nil object", build: func() *Builder { return Select(nil, fields(acc, "Id")) }, wantErr: "no object"},
		{
			name:    "bad object name",
			build:   func() *Builder { return Count(&sfsync.Object{ObjectInfo: sfsync.ObjectInfo{Name: "Account WHERE"}}) },
			wantErr: `object name "Account WHERE"`,
		},
		{name: "no fields", build: func() *Builder { return Select(acc, nil) }, wantErr: "no fields"},
		{name: "unknown field", build: func() *Builder { return Select(acc, fields(acc, "Id", "Foo__c")) }, wantErr: "field Foo__c is not in the object's describe"},
		{name: "bad field name", build: func() *Builder { return Select(acc, fields(acc, "Id", "Bad Name")) }, wantErr: `field name "Bad Name"`},
		{name: "injection in field", build: func() *Builder { return Select(acc, fields(acc, "Id,(SELECT Id FROM Contacts)")) }, wantErr: "not a Salesforce API name"},
		{name: "compound", build: func() *Builder { return Select(acc, fields(acc, "Id", "BillingAddress")) }, wantErr: "compound address field"},
		{name: "duplicate", build: func() *Builder { return Select(acc, fields(acc, "Id", "Name", "name")) }, wantErr: "listed twice"},
		{name: "unbalanced where", build: func() *Builder { return Select(acc, fields(acc, "Id")).Where("Name = 'x') OR (Id != null") }, wantErr: "unbalanced parentheses"},
		{name: "open string", build: func() *Builder { return Select(acc, fields(acc, "Id")).Where("Name = 'x") }, wantErr: "not closed"},
		{name: "bad literal", build: func() *Builder { return Select(acc, fields(acc, "Id")).Ge("Name", "'a' OR Id != null") }, wantErr: "text after its closing quote"},
		{name: "bare literal with space", build: func() *Builder { return Select(acc, fields(acc, "Id")).Lt("Name", "1 OR Id != null") }, wantErr: "not allowed in an unquoted value"},
		{name: "bad direction", build: func() *Builder { return Select(acc, fields(acc, "Id")).OrderBy("Id", "ASC; DROP") }, wantErr: "sort direction"},
		{name: "bad limit", build: func() *Builder { return Select(acc, fields(acc, "Id")).Limit(0) }, wantErr: "query limit 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.build()
			got, err := b.Build()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Build() = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				if b.String() != "" {
					t.Errorf("String() = %q for an invalid builder, want empty", b.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if got != tt.want {
				t.Errorf("Build() =\n %s\nwant\n %s", got, tt.want)
			}
			if b.String() != got {
				t.Errorf("String() = %q, Build() = %q", b.String(), got)
			}
		})
	}
}

func TestWindowQuery(t *testing.T) {
	acc := account()
	from := time.Date(2024, 1, 1, 0, 0, 0, 500e6, time.UTC)
	to := time.Date(2024, 2, 1, 12, 0, 0, 1, time.UTC)
	sel := fields(acc, "Id", "Name", "IsDeleted", "SystemModstamp")
	tests := []struct {
		name      string
		w         sfsync.Window
		want      string
		wantCount string
		wantErr   string
	}{
		{
			name:      "closed window with filter",
			w:         sfsync.Window{Object: acc, Fields: sel, CursorField: "SystemModstamp", From: from, To: to, Filter: "Name LIKE 'A%' OR Name = null"},
			want:      "SELECT Id, Name, IsDeleted, SystemModstamp FROM Account WHERE SystemModstamp >= 2024-01-01T00:00:00Z AND SystemModstamp < 2024-02-01T12:00:01Z AND (Name LIKE 'A%' OR Name = null) ORDER BY SystemModstamp ASC, Id ASC",
			wantCount: "SELECT COUNT() FROM Account WHERE SystemModstamp >= 2024-01-01T00:00:00Z AND SystemModstamp < 2024-02-01T12:00:01Z AND (Name LIKE 'A%' OR Name = null)",
		},
		{
			name:      "open start",
			w:         sfsync.Window{Object: acc, Fields: sel, CursorField: "SystemModstamp", To: to.Truncate(time.Second)},
			want:      "SELECT Id, Name, IsDeleted, SystemModstamp FROM Account WHERE SystemModstamp < 2024-02-01T12:00:00Z ORDER BY SystemModstamp ASC, Id ASC",
			wantCount: "SELECT COUNT() FROM Account WHERE SystemModstamp < 2024-02-01T12:00:00Z",
		},
		{
			name:      "no cursor",
			w:         sfsync.Window{Object: acc, Fields: sel, Filter: "  "},
			want:      "SELECT Id, Name, IsDeleted, SystemModstamp FROM Account ORDER BY Id ASC",
			wantCount: "SELECT COUNT() FROM Account",
		},
		{name: "nil object", w: sfsync.Window{Fields: sel}, wantErr: "no object"},
		{name: "bounds without cursor", w: sfsync.Window{Object: acc, Fields: sel, From: from}, wantErr: "without a cursor field"},
		{name: "date cursor", w: sfsync.Window{Object: acc, Fields: sel, CursorField: "Birthday__c", From: from}, wantErr: "want datetime"},
		{name: "unknown cursor", w: sfsync.Window{Object: acc, Fields: sel, CursorField: "Nope", From: from}, wantErr: "Nope is not in the object's describe"},
		{name: "bad filter", w: sfsync.Window{Object: acc, Fields: sel, Filter: "Name = 'x' ) LIMIT 1 ("}, wantErr: "filter for Account"},
		{name: "double quoted filter", w: sfsync.Window{Object: acc, Fields: sel, Filter: `Name = "x"`}, wantErr: "double quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WindowQuery(tt.w)
			gotCount, errCount := WindowCount(tt.w)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("WindowQuery = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				if errCount == nil || !strings.Contains(errCount.Error(), tt.wantErr) {
					t.Errorf("WindowCount = %q, %v; want error containing %q", gotCount, errCount, tt.wantErr)
				}
				return
			}
			if err != nil || errCount != nil {
				t.Fatalf("WindowQuery: %v; WindowCount: %v", err, errCount)
			}
			if got != tt.want {
				t.Errorf("WindowQuery =\n %s\nwant\n %s", got, tt.want)
			}
			if gotCount != tt.wantCount {
				t.Errorf("WindowCount =\n %s\nwant\n %s", gotCount, tt.wantCount)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"Account": true, "Region__c": true, "X__Latitude__s": true, "a1": true,
		"": false, "1abc": false, "_x": false, "Owner.Name": false, "a b": false, "a-b": false, "Ä": false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestCheckCondition(t *testing.T) {
	tests := []struct {
		cond    string
		wantErr string
	}{
		{"Name = 'a'", ""},
		{"(A = 1 OR (B = 2)) AND C IN ('x', 'y')", ""},
		{`Name = 'it\'s (not) a paren'`, ""},
		{"Name = 'two\nlines'\n AND\tX = 1", ""},
		{"", "empty condition"},
		{"   ", "empty condition"},
		{"((A = 1)", "not closed"},
		{"A = 1)", "has no '('"},
		{"Name = 'abc", "not closed"},
		{`Name = 'abc\`, "lone backslash"},
		{`Name = "abc"`, "double quote"},
		{"A = 1\x00", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			err := CheckCondition(tt.cond)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("CheckCondition(%q) = %v", tt.cond, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckCondition(%q) = %v, want %q", tt.cond, err, tt.wantErr)
			}
		})
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "a'b", `\`, "\x00\n\r\t\"", "☕", "\xff\xfe", `\u0041`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Quote(s)
		back, err := unquote(q)
		if err != nil {
			t.Fatalf("unquote(Quote(%q)) = %v (literal %s)", s, err, q)
		}
		if back != s {
			t.Fatalf("round trip of %q gave %q (literal %s)", s, back, q)
		}
		if err := checkBalanced(q); err != nil {
			t.Fatalf("Quote(%q) = %s: %v", s, q, err)
		}
	})
}

func FuzzWhere(f *testing.F) {
	for _, s := range []string{"Name = 'a'", "A = 1) OR (B = 2", "'", `'\'`, "Name = 'x''", "((", "a = 'b\\\\'"} {
		f.Add(s, "lit")
	}
	acc := account()
	f.Fuzz(func(t *testing.T, cond, value string) {
		q, err := Select(acc, fields(acc, "Id", "Name")).Where(cond).Ge("Name", Quote(value)).Lt("Name", value).Build()
		if err != nil {
			return
		}
		if err := checkBalanced(q); err != nil {
			t.Fatalf("built %q: %v", q, err)
		}
		if !strings.HasPrefix(q, "SELECT Id, Name FROM Account WHERE (") {
			t.Fatalf("built %q: unexpected shape", q)
		}
	})
}

// checkBalanced checks that q has closed string literals and balanced
// parentheses outside them (an independent scanner from CheckCondition).
func checkBalanced(q string) error {
	depth, in := 0, false
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case in && c == '\\':
			if i+1 == len(q) {
				return errors.New("backslash at end")
			}
			i++
		case c == '\'':
			in = !in
		case !in && c == '(':
			depth++
		case !in && c == ')':
			depth--
			if depth < 0 {
				return errors.New("close paren without open")
			}
		}
	}
	if in {
		return errors.New("unclosed quote")
	}
	if depth != 0 {
		return errors.New("unbalanced parentheses")
	}
	return nil
}
