package duckdb

import (
	"fmt"

	"github.com/sfsync/sfsync"
)

// converter turns a record value (see sfsync.Record) into a value of one
// column's kind, checked to fit it. nil stays nil.
type converter func(v any) (any, error)

// newConverter converts values of field f into a column of type c. When c
// is the field's own type this is a type check; when the field's type
// changed and the column kept its old type, values are converted through
// their meaning (see sfsync.Convert) or rejected.
func newConverter(f sfsync.Field, c colType) (converter, error) {
	k := f.Kind()
	switch c.Kind {
	case sfsync.KindString, sfsync.KindBool, sfsync.KindInt, sfsync.KindFloat,
		sfsync.KindDate, sfsync.KindTime, sfsync.KindDateTime:
		to := c.Kind
		return func(v any) (any, error) { return sfsync.Convert(v, k, to) }, nil
	case sfsync.KindDecimal:
		p, s := c.Precision, c.Scale
		return func(v any) (any, error) {
			d, err := sfsync.Convert(v, k, sfsync.KindDecimal)
			if err != nil || d == nil {
				return d, err
			}
			if _, err := d.(sfsync.Decimal).Scaled(p, s); err != nil {
				return nil, err
			}
			return d, nil
		}, nil
	default:
		return nil, fmt.Errorf("column type %s is not one sfsync writes", c.SQL)
	}
}
