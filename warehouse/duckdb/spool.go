package duckdb

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sfsync/sfsync"
)

// A spool is the file a stager writes its batch to, as CSV that DuckDB's
// read_csv loads at Close. Go writes it with a buffer of a fixed size, so
// a batch waiting to be staged costs no memory however large it is, and
// DuckDB parses it in its own threads, without a call per value.
//
// Where the system allows it (Linux), the file is unlinked as soon as it
// is created and DuckDB reads it through /proc/self/fd: a process killed
// at any point leaves nothing on disk. Elsewhere the file keeps its name
// until Close or Abort removes it.
type spool struct {
	f       *os.File
	w       *bufio.Writer
	path    string // what DuckDB reads
	named   bool   // the file has a name to remove
	longest int    // the longest line written, in bytes
}

// spoolUnlink: unlink spool files where the system allows it; tests turn
// it off to exercise named files.
var spoolUnlink = true

// Sizes of a spool's buffers: the write buffer, read_csv's read buffer
// (larger when a line needs it) and the least max_line_size it is given.
var (
	spoolBuffer     = 256 << 10
	spoolReadBuffer = 8 << 20
	spoolMinLine    = 64 << 10
)

// newSpool creates a spool file in dir.
func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, ".sfsync-stage-*.csv")
	if err != nil {
		return nil, fmt.Errorf("create the staging spool file: %w", err)
	}
	s := &spool{f: f, w: bufio.NewWriterSize(f, spoolBuffer), path: f.Name(), named: true}
	fd := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if _, err := os.Stat(fd); err == nil && spoolUnlink {
		if err := os.Remove(f.Name()); err == nil {
			s.path, s.named = fd, false
		}
	}
	return s, nil
}

// line writes one encoded line, which ends in a newline.
func (s *spool) line(b []byte) error {
	if len(b) > s.longest {
		s.longest = len(b)
	}
	_, err := s.w.Write(b)
	return err
}

// flush writes what the buffer holds to the file.
func (s *spool) flush() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write the staging spool file: %w", err)
	}
	return nil
}

// close closes and, when it has a name, removes the file.
func (s *spool) close() {
	s.f.Close()
	if s.named {
		os.Remove(s.path)
	}
}

// spoolDir is where a database's stagers create their spool files: the
// database file's directory, or the system's temporary directory for an
// in-memory database.
func (w *Warehouse) spoolDir() string {
	if w.memory || w.path == "" {
		return os.TempDir()
	}
	return filepath.Dir(w.path)
}

// readCSV is the read_csv call that loads a spool whose columns have the
// given DuckDB types, named c0, c1, ...: exactly what the encoders below
// write, and nothing guessed. Strings are always quoted, so an empty
// quoted field is an empty string and an empty unquoted one is NULL.
func readCSV(path string, types []string, longest int) string {
	cols := make([]string, len(types))
	for i, t := range types {
		cols[i] = fmt.Sprintf("'c%d': '%s'", i, t)
	}
	// A line may be as long as the longest written. read_csv reads the
	// file in buffers that must hold a line; DuckDB's default of 32MB,
	// allocated per reading thread within the memory limit, would take a
	// large share of a small limit for every batch loading at once.
	maxLine := max(spoolMinLine, longest+1)
	buf := max(spoolReadBuffer, 2*maxLine)
	return fmt.Sprintf("read_csv('%s', header = false, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "+
		"new_line = '\\n', allow_quoted_nulls = false, strict_mode = true, max_line_size = %d, buffer_size = %d, columns = {%s})",
		strings.ReplaceAll(path, "'", "''"), maxLine, buf, strings.Join(cols, ", "))
}

// errType: a value is not of the Go type its column's kind expects (see
// sfsync.Record).
var errType = errors.New("unexpected value type")

// encoder appends one value of a column to a CSV line; v is a record
// value (see sfsync.Record), nil for null.
type encoder func(dst []byte, v any) ([]byte, error)

// as makes a writer of values of Go type T into a writer of record
// values that answers errType for a value of any other type.
func as[T any](write func(dst []byte, x T) []byte) func(dst []byte, v any) ([]byte, error) {
	return func(dst []byte, v any) ([]byte, error) {
		x, ok := v.(T)
		if !ok {
			return dst, errType
		}
		return write(dst, x), nil
	}
}

// newEncoder converts values of field f into column c (see newConverter)
// and writes them as CSV that read_csv parses back to the same value as
// the column's type.
func newEncoder(f sfsync.Field, c colType) (encoder, error) {
	conv, err := newConverter(f, c)
	if err != nil {
		return nil, err
	}
	var write func(dst []byte, v any) ([]byte, error)
	switch c.Kind {
	case sfsync.KindString:
		quoted := as(appendQuoted)
		write = func(dst []byte, v any) ([]byte, error) {
			if s, ok := v.(string); ok && !utf8.ValidString(s) {
				return dst, fmt.Errorf("text is not valid UTF-8")
			}
			return quoted(dst, v)
		}
	case sfsync.KindBool:
		write = as(strconv.AppendBool)
	case sfsync.KindInt:
		write = as(func(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) })
	case sfsync.KindFloat:
		write = as(appendFloat)
	case sfsync.KindDecimal:
		write = as(func(dst []byte, d sfsync.Decimal) []byte { return append(dst, d...) })
	case sfsync.KindDate:
		write = as(func(dst []byte, t time.Time) []byte { return t.AppendFormat(dst, "2006-01-02") })
	case sfsync.KindTime:
		write = as(func(dst []byte, t time.Time) []byte { return t.AppendFormat(dst, "15:04:05.999999") })
	case sfsync.KindDateTime:
		write = as(func(dst []byte, t time.Time) []byte {
			return append(t.UTC().AppendFormat(dst, "2006-01-02 15:04:05.999999"), "+00"...)
		})
	default:
		return nil, fmt.Errorf("column type %s is not one sfsync writes", c.SQL)
	}
	// When the column has the field's own type, values are written as
	// they are, and only one not of the expected Go type is converted.
	direct := f.Kind() == c.Kind && c.Kind != sfsync.KindDecimal
	return func(dst []byte, v any) ([]byte, error) {
		if v == nil {
			return dst, nil
		}
		if direct {
			if out, err := write(dst, v); err != errType {
				return out, err
			}
		}
		v, err := conv(v)
		if err != nil || v == nil {
			return dst, err
		}
		return write(dst, v)
	}, nil
}

// appendQuoted appends s as a quoted CSV field, its quotes doubled.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, '"')
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

// appendFloat appends f as read_csv reads a DOUBLE back exactly, the
// infinities and NaN spelled as DuckDB spells them.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}
