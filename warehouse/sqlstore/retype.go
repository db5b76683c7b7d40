package sqlstore

import (
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

// Shape is what schema evolution reads of a column's type: its kind of
// value and, for decimals, precision and scale.
type Shape struct {
	Kind             sfsync.Kind
	Precision, Scale int
}

// Retype decides what becomes of an existing column whose type is not the
// one its field now wants (wantSQL, of shape want). newType is the type to
// change the column to, "" to keep it; warning, when not "", is what to
// log when the column keeps a type that no longer fits the field.
//
// A staging column follows the final table's type (staged rows are
// transient). A final decimal column widens to hold both its own and the
// field's digits and scale, as far as the dialect allows; text columns of
// different spellings (TEXT, VARCHAR(n)) stay; any other change keeps the
// column, and staged values are converted to its type.
func Retype(d sqlgen.Dialect, staging bool, have, want Shape, wantSQL string) (newType, warning string) {
	switch {
	case staging:
		return wantSQL, ""
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
