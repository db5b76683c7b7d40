package sqlstore

import (
	"strings"
	"testing"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

func TestRetype(t *testing.T) {
	dec := func(p, s int) ColType { return ColType{Kind: sfsync.KindDecimal, Precision: p, Scale: s} }
	str := ColType{Kind: sfsync.KindString}
	for _, d := range []sqlgen.Dialect{sqlgen.DuckDB(), sqlgen.PostgreSQL(), sqlgen.Redshift()} {
		most := d.MaxDecimalPrecision
		for _, tc := range []struct {
			name       string
			staging    bool
			have, want ColType
			newType    string
			warning    string
		}{
			{"staging follows the final type", true, str, ColType{SQL: "X(18,2)", Kind: sfsync.KindDecimal, Precision: 18, Scale: 2}, "X(18,2)", ""},
			{"a decimal widens to hold both", false, dec(18, 2), dec(16, 4), d.DecimalType(20, 4), ""},
			{"a narrower decimal keeps the column", false, dec(18, 2), dec(10, 2), "", ""},
			{"a decimal too wide for the engine", false, dec(most, 0), dec(most, 2), "", "cannot widen"},
			{"text spellings", false, ColType{SQL: "TEXT", Kind: sfsync.KindString}, ColType{SQL: "VARCHAR(80)", Kind: sfsync.KindString}, "", ""},
			{"any other change keeps the column", false, str, ColType{SQL: "BIGINT", Kind: sfsync.KindInt}, "", "keeps its type"},
		} {
			newType, warning := Retype(d, tc.staging, tc.have, tc.want)
			if newType != tc.newType || (tc.warning == "") != (warning == "") || !strings.Contains(warning, tc.warning) {
				t.Errorf("%s, %s: Retype = %q, %q; want %q and a warning containing %q", d.Name, tc.name, newType, warning, tc.newType, tc.warning)
			}
		}
	}
}

func TestSameType(t *testing.T) {
	ts := ColType{SQL: "TIMESTAMPTZ", Kind: sfsync.KindDateTime}
	for _, tc := range []struct {
		a, b ColType
		want bool
	}{
		{ts, ColType{SQL: "TIMESTAMP WITH TIME ZONE", Kind: sfsync.KindDateTime}, true},
		{ColType{SQL: "DECIMAL(18,2)", Kind: sfsync.KindDecimal, Precision: 18, Scale: 2}, ColType{SQL: "NUMERIC(18,2)", Kind: sfsync.KindDecimal, Precision: 18, Scale: 2}, true},
		{ColType{SQL: "DECIMAL(18,2)", Kind: sfsync.KindDecimal, Precision: 18, Scale: 2}, ColType{SQL: "DECIMAL(18,3)", Kind: sfsync.KindDecimal, Precision: 18, Scale: 3}, false},
		{ColType{SQL: "STRUCT(a INT)", Kind: sfsync.KindCompound}, ColType{SQL: "struct(a int)", Kind: sfsync.KindCompound}, true},
		{ColType{SQL: "STRUCT(a INT)", Kind: sfsync.KindCompound}, ts, false},
	} {
		if got := SameType(tc.a, tc.b); got != tc.want {
			t.Errorf("SameType(%s, %s) = %v, want %v", tc.a.SQL, tc.b.SQL, got, tc.want)
		}
	}
}
