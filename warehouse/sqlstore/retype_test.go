package sqlstore

import (
	"strings"
	"testing"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

func TestRetype(t *testing.T) {
	dec := func(p, s int) Shape { return Shape{Kind: sfsync.KindDecimal, Precision: p, Scale: s} }
	str := Shape{Kind: sfsync.KindString}
	for _, d := range []sqlgen.Dialect{sqlgen.DuckDB(), sqlgen.PostgreSQL(), sqlgen.Redshift()} {
		most := d.MaxDecimalPrecision
		for _, tc := range []struct {
			name       string
			staging    bool
			have, want Shape
			wantSQL    string
			newType    string
			warning    string
		}{
			{"staging follows the final type", true, str, dec(18, 2), "X(18,2)", "X(18,2)", ""},
			{"a decimal widens to hold both", false, dec(18, 2), dec(16, 4), "", d.DecimalType(20, 4), ""},
			{"a narrower decimal keeps the column", false, dec(18, 2), dec(10, 2), "", "", ""},
			{"a decimal too wide for the engine", false, dec(most, 0), dec(most, 2), "", "", "cannot widen"},
			{"text spellings", false, str, str, "TEXT", "", ""},
			{"any other change keeps the column", false, str, Shape{Kind: sfsync.KindInt}, "BIGINT", "", "keeps its type"},
		} {
			newType, warning := Retype(d, tc.staging, tc.have, tc.want, tc.wantSQL)
			if newType != tc.newType || (tc.warning == "") != (warning == "") || !strings.Contains(warning, tc.warning) {
				t.Errorf("%s, %s: Retype = %q, %q; want %q and a warning containing %q", d.Name, tc.name, newType, warning, tc.newType, tc.warning)
			}
		}
	}
}
