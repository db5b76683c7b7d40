package sfemu

import (
	"fmt"
)

// Record Ids follow Salesforce's layout: a 3-character key prefix, a
// 2-character instance code, a reserved '0', a 9-digit base-62 record
// number, and a 3-character suffix that makes the Id case-insensitively
// unique. Digits sort as '0'-'9' < 'A'-'Z' < 'a'-'z', so Ids of one object
// compare as strings in the order of their record numbers.

const (
	base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	suffixChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	idInstance   = "5g0"
	// idBase offsets record numbers so that Ids look like those of a
	// long-lived org rather than a run of zeros.
	idBase = 1_000_000
	// maxRecNo keeps record numbers inside nine base-62 digits and int32.
	maxRecNo = 1<<31 - 1 - idBase
)

// makeID returns the 18-character Id of record number n of the object
// with the given key prefix.
func makeID(prefix string, n int64) string {
	var b [18]byte
	copy(b[:3], prefix)
	copy(b[3:6], idInstance)
	v := n + idBase
	for i := 14; i >= 6; i-- {
		b[i] = base62Digits[v%62]
		v /= 62
	}
	putSuffix(&b)
	return string(b[:])
}

// putSuffix computes the case-safe suffix of b[:15] into b[15:18]: for each
// 5-character chunk, bit i is set when character i is an upper-case letter.
func putSuffix(b *[18]byte) {
	for chunk := 0; chunk < 3; chunk++ {
		bits := 0
		for i := 0; i < 5; i++ {
			c := b[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		b[15+chunk] = suffixChars[bits]
	}
}

// to18 converts a 15-character Id to its 18-character form; 18-character
// Ids are returned unchanged. ok is false when id is not an Id at all.
func to18(id string) (string, bool) {
	if len(id) != 15 && len(id) != 18 {
		return "", false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return "", false
		}
	}
	var b [18]byte
	copy(b[:], id[:15])
	putSuffix(&b)
	if len(id) == 18 && string(b[15:]) != id[15:] {
		return "", false
	}
	return string(b[:]), true
}

// parseID returns the record number an Id of the object with the given
// key prefix encodes.
func parseID(prefix, id string) (int64, error) {
	full, ok := to18(id)
	if !ok {
		return 0, fmt.Errorf("%q is not a valid record Id", id)
	}
	if full[:3] != prefix {
		return 0, fmt.Errorf("record Id %q does not have key prefix %q", id, prefix)
	}
	if full[3:6] != idInstance {
		return 0, fmt.Errorf("record Id %q does not belong to this org", id)
	}
	var v int64
	for i := 6; i < 15; i++ {
		v = v*62 + int64(digit62(full[i]))
	}
	n := v - idBase
	if n < 0 || n > maxRecNo {
		return 0, fmt.Errorf("record Id %q does not belong to this org", id)
	}
	return n, nil
}

func digit62(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	default:
		return int(c-'a') + 36
	}
}
