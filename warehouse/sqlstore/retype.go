package sqlstore

import (
	"strings"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

// ColType is a column type as an engine spells it, reduced to the kind of
// value sfsync writes into it.
type ColType struct {
	SQL       string      // as the engine spells it: "DECIMAL(18,2)", "TIMESTAMPTZ"
	Kind      sfsync.Kind // KindCompound: a type sfsync does not write
	Precision int         // for decimals
	Scale     int
}

// SameType reports whether two types store the same values, however the
// engine spells them ("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE").
func SameType(a, b ColType) bool {
	if a.Kind == sfsync.KindCompound || b.Kind == sfsync.KindCompound {
		return strings.EqualFold(a.SQL, b.SQL)
	}
	return a.Kind == b.Kind && a.Precision == b.Precision && a.Scale == b.Scale
}

// Retype decides what becomes of an existing column of type have whose
// field now wants another type. newType is the type to
// change the column to, "" to keep it; warning, when not "", is what to
// log when the column keeps a type that no longer fits the field.
//
// A staging column follows the final table's type (staged rows are
// transient). A final decimal column widens to hold both its own and the
// field's digits and scale, as far as the dialect allows; text columns of
// different spellings (TEXT, VARCHAR(n)) stay; any other change keeps the
// column, and staged values are converted to its type.
func Retype(d sqlgen.Dialect, staging bool, have, want ColType) (newType, warning string) {
	switch {
	case staging:
		return want.SQL, ""
	case have.Kind == sfsync.KindDecimal && want.Kind == sfsync.KindDecimal:
		digits := max(have.Precision-have.Scale, want.Precision-want.Scale)
		scale := max(have.Scale, want.Scale)
		switch {
		case digits+scale > d.MaxDecimalPrecision:
			return "", "decimal column cannot widen to hold the field's new precision and scale; values that do not fit fail staging"
		case digits+scale != have.Precision || scale != have.Scale:
			return d.DecimalType(digits+scale, scale), ""
		}
		return "", ""
	case have.Kind == sfsync.KindString && want.Kind == sfsync.KindString:
		return "", ""
	default:
		return "", "field type changed; the column keeps its type and staged values are converted to it"
	}
}
