package soqlparse

import (
	"fmt"
	"testing"
	"time"
)

// benchRecord is a fixed-layout record, like the emulator's rows.
type benchRecord struct {
	id, name, stamp, employees any
}

func (r *benchRecord) Get(f string) any {
	switch f {
	case "Id":
		return r.id
	case "Name":
		return r.name
	case "SystemModstamp":
		return r.stamp
	case "NumberOfEmployees":
		return r.employees
	}
	return nil
}

func benchRecords(n int) []Record {
	base := ts("2024-01-01T00:00:00Z")
	recs := make([]Record, n)
	for i := range recs {
		var name any
		if i%10 != 0 {
			name = fmt.Sprintf("Account %d", i)
		}
		recs[i] = &benchRecord{
			id:        fmt.Sprintf("001%015d", i),
			name:      name,
			stamp:     base.Add(time.Duration(i%5000) * time.Minute),
			employees: int64(i % 1000),
		}
	}
	return recs
}

func benchQuery(b *testing.B, soql string) *Query {
	b.Helper()
	q, err := Parse(soql, newTestSchema())
	if err != nil {
		b.Fatal(err)
	}
	return q
}

func BenchmarkMatchWindow(b *testing.B) {
	q := benchQuery(b, "SELECT Id FROM Account WHERE SystemModstamp >= 2024-01-02T00:00:00Z AND SystemModstamp < 2024-01-03T00:00:00Z")
	recs := benchRecords(1024)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if q.Match(recs[i%len(recs)]) {
			n++
		}
	}
	_ = n
}

func BenchmarkMatchMixed(b *testing.B) {
	q := benchQuery(b, "SELECT Id FROM Account WHERE (Name LIKE 'account 1%' OR NumberOfEmployees > 900) AND Name != null AND Id NOT IN ('001000000000000001', '001000000000000002')")
	recs := benchRecords(1024)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if q.Match(recs[i%len(recs)]) {
			n++
		}
	}
	_ = n
}

func BenchmarkLess(b *testing.B) {
	q := benchQuery(b, "SELECT Id FROM Account ORDER BY SystemModstamp ASC, Id ASC")
	recs := benchRecords(1024)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if q.Less(recs[i%len(recs)], recs[(i*7+3)%len(recs)]) {
			n++
		}
	}
	_ = n
}

func BenchmarkLessText(b *testing.B) {
	q := benchQuery(b, "SELECT Id FROM Account ORDER BY Name DESC NULLS LAST, Id")
	recs := benchRecords(1024)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if q.Less(recs[i%len(recs)], recs[(i*7+3)%len(recs)]) {
			n++
		}
	}
	_ = n
}

func BenchmarkParse(b *testing.B) {
	const soql = "SELECT Id, Name, SystemModstamp FROM Account WHERE SystemModstamp >= 2024-01-01T00:00:00Z AND SystemModstamp < 2024-02-01T00:00:00Z ORDER BY SystemModstamp ASC, Id ASC LIMIT 2000"
	s := newTestSchema()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(soql, s); err != nil {
			b.Fatal(err)
		}
	}
}
