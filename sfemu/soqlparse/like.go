package soqlparse

import (
	"cmp"
	"unicode"
	"unicode/utf8"
)

type likeOp uint8

const (
	likeRune likeOp = iota // one character equal to r, ignoring case
	likeOne                // _: any one character
	likeAny                // %: any run of characters, possibly empty
)

type likeElem struct {
	op likeOp
	r  rune // likeRune: the character, case-folded
}

// likePattern is a compiled LIKE pattern.
type likePattern []likeElem

// compileLike compiles the body of a quoted LIKE pattern (the text between
// the quotes, escapes not yet decoded; the lexer has validated them). %
// and _ are wildcards unless escaped as \% and \_.
func compileLike(body string) likePattern {
	var p likePattern
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '\\':
			r, _, n, _ := escape(body, i)
			p = append(p, likeElem{op: likeRune, r: foldRune(r)})
			i += n
		case c == '%':
			if len(p) == 0 || p[len(p)-1].op != likeAny {
				p = append(p, likeElem{op: likeAny})
			}
			i++
		case c == '_':
			p = append(p, likeElem{op: likeOne})
			i++
		default:
			r, n := utf8.DecodeRuneInString(body[i:])
			p = append(p, likeElem{op: likeRune, r: foldRune(r)})
			i += n
		}
	}
	return p
}

func likeMatcher(f string, p likePattern) matcher {
	return func(r Record) bool {
		s, ok := r.Get(f).(string)
		return ok && s != "" && p.match(s)
	}
}

// match reports whether the whole of s matches the pattern, ignoring case.
// A % is matched lazily and widened on failure; only the latest % needs
// revisiting, so the work is at most len(s) × len(p).
func (p likePattern) match(s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			e := p[pi]
			switch e.op {
			case likeAny:
				starP, starS = pi, si
				pi++
				continue
			case likeOne:
				_, n := decodeRune(s[si:])
				si += n
				pi++
				continue
			default:
				r, n := decodeRune(s[si:])
				if r == e.r || foldRune(r) == e.r {
					si += n
					pi++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n := decodeRune(s[starS:])
		starS += n
		si, pi = starS, starP+1
	}
	for pi < len(p) && p[pi].op == likeAny {
		pi++
	}
	return pi == len(p)
}

func decodeRune(s string) (rune, int) {
	if s[0] < utf8.RuneSelf {
		return rune(s[0]), 1
	}
	return utf8.DecodeRuneInString(s)
}

// foldRune maps r to a representative of its case-folding orbit (the
// smallest rune in it), so two runes fold together exactly when
// strings.EqualFold says they are equal.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// compareFold orders strings ignoring case, character by folded character.
// It returns 0 exactly when strings.EqualFold(a, b).
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := decodeRune(a)
		rb, nb := decodeRune(b)
		a, b = a[na:], b[nb:]
		if ra == rb {
			continue
		}
		if fa, fb := foldRune(ra), foldRune(rb); fa != fb {
			return cmp.Compare(fa, fb)
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}
