package soqlparse

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testRecords is the data the evaluation tests run against.
func testRecords() []rec {
	return []rec{
		{
			"Id": "001A", "Name": "Acme", "Industry": "Tech", "Tags__c": "Red;Blue", "IsDeleted": false,
			"OwnerId": "005X", "NumberOfEmployees": int64(50), "AnnualRevenue": 1.5e6, "Score__c": 2.5, "Big__c": int64(9007199254740993),
			"CreatedDate": ts("2024-01-01T00:00:00Z"), "SystemModstamp": ts("2024-01-15T10:00:00.250Z"),
			"Founded__c": ts("2000-05-01T00:00:00Z"), "Opens__c": ts("1970-01-01T09:00:00Z"), "BillingCity": "Paris",
		},
		{
			"Id": "001B", "Name": "acme corp", "Industry": nil, "Tags__c": "green", "IsDeleted": true,
			"OwnerId": "005Y", "NumberOfEmployees": nil, "AnnualRevenue": int64(10), "Score__c": -1.0, "Big__c": int64(9007199254740992),
			"CreatedDate": ts("2024-02-01T00:00:00Z"), "SystemModstamp": ts("2024-02-01T00:00:00Z"),
			"Founded__c": nil, "Opens__c": nil, "BillingCity": "",
		},
		{
			"Id": "001a", "Name": nil, "Industry": "Retail", "Tags__c": nil, "IsDeleted": false,
			"OwnerId": nil, "NumberOfEmployees": int64(5), "AnnualRevenue": nil, "Score__c": nil, "Big__c": nil,
			"CreatedDate": ts("2023-12-31T23:59:59Z"), "SystemModstamp": nil,
			"Founded__c": ts("1999-01-01T00:00:00Z"), "Opens__c": ts("1970-01-01T17:30:00Z"), "BillingCity": "paris",
		},
		{
			"Id": "001C", "Name": "100% Pure_Water", "Industry": "tech", "Tags__c": " Blue ; Red ;Yellow", "IsDeleted": false,
			"OwnerId": "005X", "NumberOfEmployees": int64(5000), "AnnualRevenue": 2.5e6, "Score__c": 2.5, "Big__c": int64(1),
			"CreatedDate": ts("2024-01-31T23:59:59.999Z"), "SystemModstamp": ts("2024-01-01T00:00:00Z"),
			"Founded__c": ts("2000-05-01T00:00:00Z"), "Opens__c": ts("1970-01-01T09:00:00.5Z"),
			// A value of an unexpected type matches nothing and sorts as null.
			"BillingCity": 42,
		},
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		where string
		want  []string // Ids of the matching records, in record order
	}{
		{"", []string{"001A", "001B", "001a", "001C"}},

		// Text: case-insensitive; null and '' are the same.
		{"Name = 'ACME'", []string{"001A"}},
		{"Name != 'acme'", []string{"001B", "001a", "001C"}},
		{"Name = null", []string{"001a"}},
		{"Name = ''", []string{"001a"}},
		{"Name != null", []string{"001A", "001B", "001C"}},
		{"Name != ''", []string{"001A", "001B", "001C"}},
		{"Name < 'B'", []string{"001A", "001B", "001C"}},
		{"Name > 'acme'", []string{"001B"}},
		{"Name >= 'ACME'", []string{"001A", "001B"}},
		{"Name <= 'acme'", []string{"001A", "001C"}},
		{"Name < null", nil},
		{"Name IN ('x', 'ACME CORP')", []string{"001B"}},
		{"Name IN ('x', null)", []string{"001a"}},
		{"Name NOT IN ('acme', 'ACME CORP')", []string{"001a", "001C"}},
		{"Name NOT IN ('acme', null)", []string{"001B", "001C"}},
		{"Industry = 'TECH'", []string{"001A", "001C"}},
		{"BillingCity = 'PARIS'", []string{"001A", "001a"}},
		{"BillingCity = null", []string{"001B"}},
		{"BillingCity != 'paris'", []string{"001B", "001C"}},

		// LIKE: case-insensitive, % and _ wildcards, \% and \_ literal.
		{"Name LIKE 'acme%'", []string{"001A", "001B"}},
		{"Name LIKE '%CORP'", []string{"001B"}},
		{"Name LIKE 'a_me'", []string{"001A"}},
		{"Name LIKE '%'", []string{"001A", "001B", "001C"}},
		{`Name LIKE '100\%%'`, []string{"001C"}},
		{`Name LIKE '%\_%'`, []string{"001C"}},
		{`Name LIKE '%e\_%'`, []string{"001C"}},
		{"Name LIKE '%E_W%'", []string{"001C"}},
		{"NOT Name LIKE 'acme%'", []string{"001a", "001C"}},

		// Ids compare exactly.
		{"Id = '001a'", []string{"001a"}},
		{"Id = '001A'", []string{"001A"}},
		{"Id > '001B'", []string{"001a", "001C"}},
		{"Id IN ('001a', '001C')", []string{"001a", "001C"}},
		{"Id IN ('001a', '1', '2', '3', '4', '5', '6', '7', '8')", []string{"001a"}},
		{"Id NOT IN ('001a', '1', '2', '3', '4', '5', '6', '7', '8')", []string{"001A", "001B", "001C"}},
		{"OwnerId IN ('1', '2', '3', '4', '5', '6', '7', '005Y', null)", []string{"001B", "001a"}},
		{"OwnerId = null", []string{"001a"}},

		// Numbers: int64 and float64 values against integer and decimal literals.
		{"NumberOfEmployees > 5", []string{"001A", "001C"}},
		{"NumberOfEmployees >= 5", []string{"001A", "001a", "001C"}},
		{"NumberOfEmployees < 50.5", []string{"001A", "001a"}},
		{"NumberOfEmployees = 5e1", []string{"001A"}},
		{"NumberOfEmployees != 50", []string{"001B", "001a", "001C"}},
		{"NumberOfEmployees IN (5, 5000)", []string{"001a", "001C"}},
		{"AnnualRevenue > 1000000", []string{"001A", "001C"}},
		{"AnnualRevenue = 10", []string{"001B"}},
		{"AnnualRevenue <= 10.0", []string{"001B"}},
		{"Score__c = 2.5", []string{"001A", "001C"}},
		{"Score__c < 0", []string{"001B"}},
		{"Score__c > -1.5", []string{"001A", "001B", "001C"}},
		{"Big__c > 9007199254740992", []string{"001A"}},
		{"Big__c = 9007199254740992", []string{"001B"}},

		// Booleans.
		{"IsDeleted = true", []string{"001B"}},
		{"IsDeleted = FALSE", []string{"001A", "001a", "001C"}},
		{"IsDeleted != false", []string{"001B"}},

		// Datetimes: offsets normalized to UTC; sub-second record values.
		{"CreatedDate = 2024-01-01T00:00:00Z", []string{"001A"}},
		{"CreatedDate = 2024-01-01T05:30:00+05:30", []string{"001A"}},
		{"CreatedDate = 2023-12-31T19:00:00-05:00", []string{"001A"}},
		{"CreatedDate = 2024-01-01T00:00:00.000+0000", []string{"001A"}},
		{"CreatedDate < 2024-01-01T00:00:00Z", []string{"001a"}},
		{"CreatedDate >= 2024-01-01T00:00:00Z AND CreatedDate < 2024-02-01T00:00:00Z", []string{"001A", "001C"}},
		{"SystemModstamp > 2024-01-15T10:00:00Z", []string{"001A", "001B"}},
		{"SystemModstamp = null", []string{"001a"}},
		{"SystemModstamp != 2024-01-01T00:00:00Z", []string{"001A", "001B", "001a"}},

		// Dates and times.
		{"Founded__c = 2000-05-01", []string{"001A", "001C"}},
		{"Founded__c < 2000-01-01", []string{"001a"}},
		{"Founded__c IN (1999-01-01, null)", []string{"001B", "001a"}},
		{"Opens__c = 09:00:00Z", []string{"001A"}},
		{"Opens__c > 09:00:00.000Z", []string{"001a", "001C"}},

		// Multipicklists: set equality, INCLUDES, EXCLUDES.
		{"Tags__c = 'blue;red'", []string{"001A"}},
		{"Tags__c = 'Red'", nil},
		{"Tags__c != 'Red;Blue'", []string{"001B", "001a", "001C"}},
		{"Tags__c = null", []string{"001a"}},
		{"Tags__c INCLUDES ('red')", []string{"001A", "001C"}},
		{"Tags__c INCLUDES ('Red;Yellow', 'GREEN')", []string{"001B", "001C"}},
		{"Tags__c INCLUDES ('Red;Green')", nil},
		{"Tags__c EXCLUDES ('red')", []string{"001B", "001a"}},

		// Logic.
		{"Name = 'acme' OR Name = 'acme corp' OR Id = '001a'", []string{"001A", "001B", "001a"}},
		{"IsDeleted = false AND NumberOfEmployees > 5 AND Industry = 'tech'", []string{"001A", "001C"}},
		{"(Name = 'acme' OR Id = '001a') AND IsDeleted = false", []string{"001A", "001a"}},
		{"Name = 'acme' OR (Id = '001a' AND IsDeleted = true)", []string{"001A"}},
		{"NOT (Name = 'acme' OR Name = null)", []string{"001B", "001C"}},
		{"NOT NOT Name = 'acme'", []string{"001A"}},
		{"NOT Name = 'acme' AND NOT Id = '001a'", []string{"001B", "001C"}},
		{"((Industry = null))", []string{"001B"}},
	}
	recs := testRecords()
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			soql := "SELECT Id FROM Account"
			if tt.where != "" {
				soql += " WHERE " + tt.where
			}
			q, err := Parse(soql, newTestSchema())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got []string
			for _, r := range recs {
				if q.Match(r) {
					got = append(got, r["Id"].(string))
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLess(t *testing.T) {
	tests := []struct {
		order string
		want  []string
	}{
		{"", []string{"001A", "001B", "001a", "001C"}}, // no ORDER BY: stable sort keeps input order
		{"Id", []string{"001A", "001B", "001C", "001a"}},
		{"Id DESC", []string{"001a", "001C", "001B", "001A"}},
		{"Name", []string{"001a", "001C", "001A", "001B"}},
		{"Name ASC NULLS LAST", []string{"001C", "001A", "001B", "001a"}},
		{"Name DESC", []string{"001B", "001A", "001C", "001a"}},
		{"Name DESC NULLS FIRST", []string{"001a", "001B", "001A", "001C"}},
		{"NumberOfEmployees DESC", []string{"001C", "001A", "001a", "001B"}},
		{"AnnualRevenue", []string{"001a", "001B", "001A", "001C"}},
		{"SystemModstamp, Id", []string{"001a", "001C", "001A", "001B"}},
		{"SystemModstamp NULLS LAST, Id", []string{"001C", "001A", "001B", "001a"}},
		{"Industry, Id DESC", []string{"001B", "001a", "001C", "001A"}},
		{"IsDeleted DESC, Score__c DESC, Id", []string{"001B", "001A", "001C", "001a"}},
		{"Founded__c DESC, Opens__c", []string{"001A", "001C", "001a", "001B"}},
		{"BillingCity, Id", []string{"001B", "001C", "001A", "001a"}},
	}
	recs := testRecords()
	for _, tt := range tests {
		t.Run(tt.order, func(t *testing.T) {
			soql := "SELECT Id FROM Account"
			if tt.order != "" {
				soql += " ORDER BY " + tt.order
			}
			q, err := Parse(soql, newTestSchema())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			sorted := slices.Clone(recs)
			slices.SortStableFunc(sorted, func(a, b rec) int {
				switch {
				case q.Less(a, b):
					return -1
				case q.Less(b, a):
					return 1
				}
				return 0
			})
			var got []string
			for _, r := range sorted {
				got = append(got, r["Id"].(string))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
			for _, a := range recs {
				if q.Less(a, a) {
					t.Errorf("Less(%v, itself) = true", a["Id"])
				}
			}
		})
	}
}

func TestLikePattern(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"abc", "ABC", true},
		{"abc", "abcd", false},
		{"ab%", "ab", true},
		{"ab%", "abxyz", true},
		{"ab%", "a", false},
		{"%yz", "xyz", true},
		{"%yz", "xyzz", false},
		{"%b%", "abc", true},
		{"%b%", "ac", false},
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"a_c", "aéc", true},
		{"_", "é", true},
		{"__", "é", false},
		{"%a%b%c", "xaybzc", true},
		{"%a%b%c", "xaybzcb", false},
		{"%aab", "aaaab", true},
		{"a%%%b", "ab", true},
		{"%", "", true},
		{"", "", true},
		{"", "a", false},
		{`100\%`, "100%", true},
		{`100\%`, "1000", false},
		{`a\_b`, "a_b", true},
		{`a\_b`, "axb", false},
		{`\\%`, `\x`, true},
		{`it\'s%`, "It's here", true},
		{"école%", "ÉCOLE PRIMAIRE", true},
		{"%ſ%", "S", true}, // long s folds with s
		{"%k", "K", true},  // Kelvin sign folds with k
		{"straße", "STRASSE", false},
	}
	for _, tt := range tests {
		if got := compileLike(tt.pattern).match(tt.s); got != tt.want {
			t.Errorf("%q LIKE %q = %v, want %v", tt.s, tt.pattern, got, tt.want)
		}
	}
}

func TestCompareFold(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "a", -1},
		{"abc", "ABC", 0},
		{"abc", "ABD", -1},
		{"abd", "ABC", 1},
		{"ab", "ABC", -1},
		{"École", "école", 0},
		{"ſ", "S", 0},
		{"a_", "A", 1},
	}
	for _, tt := range tests {
		if got := compareFold(tt.a, tt.b); got != tt.want {
			t.Errorf("compareFold(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := compareFold(tt.b, tt.a); got != -tt.want {
			t.Errorf("compareFold(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
		if (compareFold(tt.a, tt.b) == 0) != strings.EqualFold(tt.a, tt.b) {
			t.Errorf("compareFold(%q, %q) disagrees with strings.EqualFold", tt.a, tt.b)
		}
	}
}

// TestMatchDoesNotAllocate guards the per-record cost: compiled queries
// allocate nothing per Match or Less call.
func TestMatchDoesNotAllocate(t *testing.T) {
	q, err := Parse(`SELECT Id FROM Account WHERE SystemModstamp >= 2024-01-01T00:00:00Z AND SystemModstamp < 2024-02-01T00:00:00Z
		AND (Name LIKE 'ac%' OR Name IN ('x', 'y') OR NumberOfEmployees > 5 OR Tags__c INCLUDES ('red') OR Id IN ('1','2','3','4','5','6','7','8','9'))
		ORDER BY SystemModstamp DESC NULLS FIRST, Name, Id`, newTestSchema())
	if err != nil {
		t.Fatal(err)
	}
	recs := testRecords()
	matched := 0
	allocs := testing.AllocsPerRun(100, func() {
		for i, r := range recs {
			if q.Match(r) {
				matched++
			}
			q.Less(r, recs[(i+1)%len(recs)])
		}
	})
	if allocs != 0 {
		t.Errorf("Match and Less allocate %.1f times per run, want 0", allocs)
	}
	if matched == 0 {
		t.Error("no record matched; the guard measures nothing")
	}
}

func TestDateTimeBounds(t *testing.T) {
	a, b := "2024-01-02T03:04:05Z", "2024-02-03T04:05:06.789Z"
	tests := []struct {
		where  string
		ok     bool
		lo, hi string
	}{
		{"SystemModstamp >= " + a + " AND SystemModstamp < " + b, true, a, b},
		{"SystemModstamp > " + a + " AND (Name = 'x' AND SystemModstamp <= " + b + ")", true, a, b},
		{"SystemModstamp = " + a, true, a, a},
		{"SystemModstamp >= " + a + " AND SystemModstamp >= " + b, true, b, ""},
		{"SystemModstamp < " + b + " AND SystemModstamp < " + a, true, "", a},
		{"SystemModstamp >= " + a + " OR SystemModstamp < " + b, false, "", ""},
		{"NOT SystemModstamp >= " + a, false, "", ""},
		{"SystemModstamp != " + a, false, "", ""},
		{"SystemModstamp = null", false, "", ""},
		{"CreatedDate >= " + a, false, "", ""},
		{"Name = 'x'", false, "", ""},
	}
	for _, tt := range tests {
		q, err := Parse("SELECT Id FROM Account WHERE "+tt.where, newTestSchema())
		if err != nil {
			t.Fatalf("%s: %v", tt.where, err)
		}
		got, ok := q.DateTimeBounds("SystemModstamp")
		var want Bounds
		if tt.lo != "" {
			want.From = ts(tt.lo)
		}
		if tt.hi != "" {
			want.To = ts(tt.hi)
		}
		if ok != tt.ok || !got.From.Equal(want.From) || !got.To.Equal(want.To) {
			t.Errorf("%s: bounds %+v, %v; want %+v, %v", tt.where, got, ok, want, tt.ok)
		}
	}
}
