package soqlparse

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// quote renders s as a SOQL string literal the way the replicator's query
// builder does: two-character escapes for \ ' " \n \r \t, \u00XX for other
// control characters.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte("0123456789abcdef"[c>>4])
				b.WriteByte("0123456789abcdef"[c&0xf])
				continue
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// likeQuote renders s as a LIKE pattern matching exactly s.
func likeQuote(s string) string {
	q := quote(s)
	q = strings.ReplaceAll(q, "%", `\%`)
	return strings.ReplaceAll(q, "_", `\_`)
}

var knownCodes = map[string]bool{
	CodeMalformedQuery: true, CodeInvalidField: true, CodeInvalidType: true, CodeNumberOutsideValidRange: true,
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"SELECT Id, Name FROM Account",
		"SELECT COUNT() FROM Account WHERE IsDeleted = false",
		"SELECT Id FROM Account WHERE SystemModstamp >= 2024-01-01T00:00:00Z AND SystemModstamp < 2024-02-01T00:00:00.000+0000 ORDER BY SystemModstamp, Id LIMIT 2000 OFFSET 10",
		"SELECT Id FROM Account WHERE (Name LIKE 'a\\%_%' OR Name IN ('x', null)) AND NOT Tags__c INCLUDES ('a;b')",
		"SELECT Id FROM Account WHERE NumberOfEmployees NOT IN (1, -2.5e3) AND Founded__c = 2024-02-29 AND Opens__c < 10:00:00Z",
		"SELECT Id FROM Account ORDER BY Name DESC NULLS FIRST, Id",
		"SELECT Id FROM Account WHERE Name = '\\u00e9\\n'",
		"SELECT Foo FROM Account",
		"SELECT Id FROM Account WHERE CreatedDate > 2024-01-01T00:00:00 05:30",
		"select id from account where name = 'it\\'s' and isdeleted = true",
		"SELECT Id\nFROM Order\r\nWHERE Status = 'x'",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	schema := newTestSchema()
	recs := testRecords()
	f.Fuzz(func(t *testing.T, soql string) {
		q, err := Parse(soql, schema)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if !knownCodes[e.Code] {
				t.Fatalf("unknown code %q", e.Code)
			}
			if !strings.Contains(e.Message, "\nERROR at Row:") {
				t.Fatalf("message has no position: %q", e.Message)
			}
			return
		}
		if q.Object == "" || (q.Count != (len(q.Fields) == 0)) || q.Limit < -1 || q.Offset < 0 || q.Offset > MaxOffset {
			t.Fatalf("inconsistent query %+v", q)
		}
		for _, a := range recs {
			q.Match(a)
			for _, b := range recs {
				if q.Less(a, b) && q.Less(b, a) {
					t.Fatalf("Less(%v, %v) and Less(%v, %v) both true", a["Id"], b["Id"], b["Id"], a["Id"])
				}
			}
		}
	})
}

// FuzzStringLiteral checks that any text, quoted as the replicator quotes
// it, reads back as exactly that text: = matches it (ignoring case for text,
// exactly for Ids) and an escaped LIKE pattern matches it and nothing longer.
func FuzzStringLiteral(f *testing.F) {
	for _, s := range []string{"Acme", "it's", `a\b`, "100%_x", "line\nbreak\ttab\r", "é€😀", "\x00\x1f\x7f", "\xff"} {
		f.Add(s)
	}
	schema := newTestSchema()
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		q, err := Parse("SELECT Id FROM Account WHERE Name = "+quote(s)+" OR Id = "+quote(s), schema)
		if err != nil {
			t.Fatalf("Parse(%q): %v", quote(s), err)
		}
		if !q.Match(rec{"Name": s}) {
			t.Errorf("Name = %s does not match %q", quote(s), s)
		}
		if !q.Match(rec{"Id": s}) {
			t.Errorf("Id = %s does not match %q", quote(s), s)
		}
		if q.Match(rec{"Name": s + "x", "Id": s + "x"}) {
			t.Errorf("%s matches %q", quote(s), s+"x")
		}
		if up := strings.ToUpper(s); up != s && utf8.ValidString(s) && q.Match(rec{"Id": up}) {
			t.Errorf("Id = %s matches %q; Ids compare exactly", quote(s), up)
		}
		q, err = Parse("SELECT Id FROM Account WHERE Name LIKE "+likeQuote(s), schema)
		if err != nil {
			t.Fatalf("Parse(%q): %v", likeQuote(s), err)
		}
		if !q.Match(rec{"Name": s}) {
			t.Errorf("LIKE %s does not match %q", likeQuote(s), s)
		}
		if q.Match(rec{"Name": s + "x"}) {
			t.Errorf("LIKE %s matches %q", likeQuote(s), s+"x")
		}
	})
}

// FuzzLike compares LIKE matching with an equivalent case-insensitive
// regular expression.
func FuzzLike(f *testing.F) {
	f.Add("a%b_c", "AxxBzC")
	f.Add("%%", "")
	f.Add("_é%", "xÉ")
	f.Add("%k%", "\u212a")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) || len(pattern) > 64 || len(s) > 256 {
			return
		}
		var re strings.Builder
		re.WriteString(`(?is)\A`)
		for _, r := range pattern {
			switch r {
			case '%':
				re.WriteString(`.*`)
			case '_':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`\z`)
		want := regexp.MustCompile(re.String()).MatchString(s)
		body := strings.ReplaceAll(pattern, `\`, `\\`)
		if got := compileLike(body).match(s); got != want {
			t.Errorf("%q LIKE %q = %v, regexp %s says %v", s, pattern, got, re.String(), want)
		}
	})
}

// FuzzCompareFold checks that the text order agrees with strings.EqualFold
// and is a total order.
func FuzzCompareFold(f *testing.F) {
	f.Add("abc", "ABD", "abd")
	f.Add("ſ", "S", "t")
	f.Add("é", "É", "e")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ab, ba := compareFold(a, b), compareFold(b, a)
		if ab != -ba {
			t.Fatalf("compareFold(%q, %q) = %d but reversed = %d", a, b, ab, ba)
		}
		if (ab == 0) != strings.EqualFold(a, b) {
			t.Fatalf("compareFold(%q, %q) = %d, EqualFold = %v", a, b, ab, strings.EqualFold(a, b))
		}
		if bc, ac := compareFold(b, c), compareFold(a, c); ab <= 0 && bc <= 0 && ac > 0 {
			t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
		}
	})
}

// FuzzDateTime checks that a datetime written with any offset and fraction
// reads back as the same instant in UTC.
func FuzzDateTime(f *testing.F) {
	f.Add(int64(1704067200), int32(0), int16(330))
	f.Add(int64(0), int32(999000000), int16(-480))
	f.Fuzz(func(t *testing.T, sec int64, nsec int32, offMin int16) {
		if sec < 0 || sec > 253402300799 || nsec < 0 || nsec >= 1e9 || offMin < -23*60-59 || offMin > 23*60+59 {
			return
		}
		want := time.Unix(sec, int64(nsec)).UTC()
		loc := time.FixedZone("", int(offMin)*60)
		lit := want.In(loc).Format("2006-01-02T15:04:05.999999999-07:00")
		if offMin == 0 {
			lit = want.Format("2006-01-02T15:04:05.999999999Z")
		}
		if want.In(loc).Year() > 9999 || want.In(loc).Year() < 0 {
			return
		}
		toks, err := lex(lit)
		if err != nil {
			t.Fatalf("lex(%q): %v", lit, err)
		}
		if toks[0].kind != tDateTime || !toks[0].t.Equal(want) || toks[0].t.Location() != time.UTC {
			t.Fatalf("lex(%q) = %v (kind %d), want %v", lit, toks[0].t, toks[0].kind, want)
		}
	})
}
