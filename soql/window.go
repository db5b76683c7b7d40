package soql

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sfsync/sfsync"
)

// WindowQuery renders the query that extracts a window:
//
//	SELECT <fields> FROM <object>
//	WHERE <cursor> >= <From> AND <cursor> < <To> AND (<filter>)
//	ORDER BY <cursor> ASC, Id ASC
//
// A zero From or To leaves that side open, an empty Filter adds nothing, and
// a window without a cursor field is ordered by Id alone. From is rounded
// down and To up to whole seconds (SOQL literals have no fractions), so the
// window never selects fewer records than [From, To) holds.
func WindowQuery(w sfsync.Window) (string, error) {
	if w.Object == nil {
		return "", errors.New("window query: no object")
	}
	b := Select(w.Object, w.Fields)
	if err := windowWhere(b, w); err != nil {
		return "", err
	}
	if w.CursorField != "" {
		b.OrderBy(w.CursorField, Asc)
	}
	b.OrderBy("Id", Asc)
	q, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("window query for %s: %w", w.Object.Name, err)
	}
	return q, nil
}

// WindowCount renders SELECT COUNT() over the same records WindowQuery
// selects.
func WindowCount(w sfsync.Window) (string, error) {
	if w.Object == nil {
		return "", errors.New("window count: no object")
	}
	b := Count(w.Object)
	if err := windowWhere(b, w); err != nil {
		return "", err
	}
	q, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("window count for %s: %w", w.Object.Name, err)
	}
	return q, nil
}

// windowWhere adds the window's cursor bounds and filter to b.
func windowWhere(b *Builder, w sfsync.Window) error {
	if w.CursorField != "" {
		f, ok := w.Object.Field(w.CursorField)
		if ok && f.Type != sfsync.TypeDateTime {
			return fmt.Errorf("window on %s: cursor field %s is a %s field, want datetime", w.Object.Name, f.Name, f.Type)
		}
		if !w.From.IsZero() {
			b.Ge(w.CursorField, DateTimeFloor(w.From))
		}
		if !w.To.IsZero() {
			b.Lt(w.CursorField, DateTimeCeil(w.To))
		}
	} else if !w.From.IsZero() || !w.To.IsZero() {
		return fmt.Errorf("window on %s: bounds given without a cursor field", w.Object.Name)
	}
	if strings.TrimSpace(w.Filter) != "" {
		if err := CheckCondition(w.Filter); err != nil {
			return fmt.Errorf("filter for %s %q: %w", w.Object.Name, excerpt(w.Filter), err)
		}
		b.Where(w.Filter)
	}
	return nil
}
