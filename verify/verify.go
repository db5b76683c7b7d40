// Package verify compares a replica in a warehouse with the source's truth,
// field by field. It is how the end-to-end tests, the benchmarks and
// `sfsync quickstart` prove that the final tables equal the source.
package verify

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
)

// Report is the outcome of one comparison.
type Report struct {
	Object       string
	TruthRows    int      // live records at the source
	ReplicaRows  int      // live rows in the final table
	FlaggedRows  int      // rows flagged deleted (soft delete mode)
	DuplicateIDs int      // Ids that appear more than once in the final table
	Missing      []string // live at the source, absent or flagged deleted in the replica
	Extra        []string // live in the replica, deleted or absent at the source
	Mismatches   []string // "Id.Field: source X, replica Y", at most MaxMismatches
	Compared     int      // field values compared
}

// MaxMismatches bounds Report.Mismatches.
const MaxMismatches = 20

// OK reports whether the replica equals the truth.
func (r *Report) OK() bool {
	return r.DuplicateIDs == 0 && len(r.Missing) == 0 && len(r.Extra) == 0 && len(r.Mismatches) == 0
}

// String summarises the report in one paragraph.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: source %d live, replica %d live (%d flagged deleted), %d duplicate Ids, %d values compared",
		r.Object, r.TruthRows, r.ReplicaRows, r.FlaggedRows, r.DuplicateIDs, r.Compared)
	if len(r.Missing) > 0 {
		fmt.Fprintf(&b, "; missing %d (e.g. %s)", len(r.Missing), strings.Join(first(r.Missing, 5), ", "))
	}
	if len(r.Extra) > 0 {
		fmt.Fprintf(&b, "; extra %d (e.g. %s)", len(r.Extra), strings.Join(first(r.Extra, 5), ", "))
	}
	for _, m := range r.Mismatches {
		b.WriteString("\n  ")
		b.WriteString(m)
	}
	return b.String()
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Options tune a comparison.
type Options struct {
	// Schema holds the final tables ("salesforce").
	Schema string
	// Fields to compare; Id must be among them.
	Fields []sfsync.Field
	// SkipCalculated leaves formula fields out: their values change at the
	// source without touching SystemModstamp, so only a full refresh
	// brings them up to date.
	SkipCalculated bool
	// HardDeletes: the table has no deleted flag semantics to honour (rows
	// of deleted records are removed), so every row counts as live.
	HardDeletes bool
}

// Compare reads the final table of object and compares it with truth (Id →
// field → value as the emulator gives it: nil, string, bool, int64,
// float64, time.Time).
func Compare(ctx context.Context, db *sql.DB, object string, truth map[string]map[string]any, opts Options) (*Report, error) {
	rep := &Report{Object: object, TruthRows: len(truth)}
	fields := make([]sfsync.Field, 0, len(opts.Fields))
	for _, f := range opts.Fields {
		if opts.SkipCalculated && f.Calculated {
			continue
		}
		fields = append(fields, f)
	}
	cols := make([]string, 0, len(fields)+1)
	idIdx := -1
	for i, f := range fields {
		cols = append(cols, quote(f.Name))
		if f.Name == "Id" {
			idIdx = i
		}
	}
	if idIdx < 0 {
		return nil, fmt.Errorf("verify %s: Id is not among the fields", object)
	}
	cols = append(cols, quote(sfsync.ColDeleted))
	q := fmt.Sprintf("SELECT %s FROM %s.%s", strings.Join(cols, ", "), quote(opts.Schema), quote(object))
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", object, err)
	}
	defer rows.Close()
	seen := map[string]int{}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("verify %s: %w", object, err)
		}
		id := fmt.Sprint(vals[idIdx])
		seen[id]++
		if seen[id] == 2 {
			rep.DuplicateIDs++
		}
		deleted, _ := vals[len(cols)-1].(bool)
		if deleted && !opts.HardDeletes {
			rep.FlaggedRows++
			if _, live := truth[id]; live {
				rep.Missing = append(rep.Missing, id)
			}
			continue
		}
		rep.ReplicaRows++
		src, live := truth[id]
		if !live {
			rep.Extra = append(rep.Extra, id)
			continue
		}
		for i, f := range fields {
			rep.Compared++
			want, err := Canonical(f, src[f.Name])
			if err != nil {
				return nil, fmt.Errorf("verify %s.%s of %s (source): %w", object, f.Name, id, err)
			}
			got, err := Canonical(f, vals[i])
			if err != nil {
				return nil, fmt.Errorf("verify %s.%s of %s (replica): %w", object, f.Name, id, err)
			}
			if want != got && len(rep.Mismatches) < MaxMismatches {
				rep.Mismatches = append(rep.Mismatches, fmt.Sprintf("%s.%s: source %s, replica %s", id, f.Name, clip(want), clip(got)))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("verify %s: %w", object, err)
	}
	for id := range truth {
		if seen[id] == 0 {
			rep.Missing = append(rep.Missing, id)
		}
	}
	sort.Strings(rep.Missing)
	sort.Strings(rep.Extra)
	return rep, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Canonical renders a value of field f as comparable text, whichever side
// it came from: a database driver's scan or the emulator's truth. Nulls are
// "<null>".
func Canonical(f sfsync.Field, v any) (string, error) {
	if v == nil {
		return "<null>", nil
	}
	switch f.Kind() {
	case sfsync.KindDecimal, sfsync.KindFloat, sfsync.KindInt:
		var text string
		switch x := v.(type) {
		case float64:
			text = strconv.FormatFloat(x, 'f', -1, 64)
		case float32:
			text = strconv.FormatFloat(float64(x), 'f', -1, 32)
		case int64:
			text = strconv.FormatInt(x, 10)
		case int32:
			text = strconv.FormatInt(int64(x), 10)
		case int:
			text = strconv.Itoa(x)
		case []byte:
			text = string(x)
		case string:
			text = x
		case *big.Int:
			text = x.String()
		case fmt.Stringer:
			text = x.String()
		default:
			return "", fmt.Errorf("unexpected %T for a number", v)
		}
		d, err := sfsync.ParseDecimal(text)
		if err != nil {
			return "", err
		}
		return string(d), nil
	case sfsync.KindBool:
		b, ok := v.(bool)
		if !ok {
			return "", fmt.Errorf("unexpected %T for a boolean", v)
		}
		return strconv.FormatBool(b), nil
	case sfsync.KindDateTime:
		t, ok := v.(time.Time)
		if !ok {
			return "", fmt.Errorf("unexpected %T for a datetime", v)
		}
		return t.UTC().Format("2006-01-02T15:04:05.000Z"), nil
	case sfsync.KindDate:
		t, ok := v.(time.Time)
		if !ok {
			return "", fmt.Errorf("unexpected %T for a date", v)
		}
		return t.Format("2006-01-02"), nil
	case sfsync.KindTime:
		switch x := v.(type) {
		case time.Time:
			return x.Format("15:04:05.000"), nil
		case string: // PostgreSQL's TIME through database/sql: "13:30:00.123"
			t, err := sfsync.ParseTime(x)
			if err != nil {
				return "", err
			}
			return t.Format("15:04:05.000"), nil
		default:
			return "", fmt.Errorf("unexpected %T for a time", v)
		}
	default:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		default:
			return fmt.Sprint(x), nil
		}
	}
}
