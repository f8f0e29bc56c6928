// Package termtext makes untrusted text (anything a webhook sent) safe to
// print on a terminal: every control character, and so every escape sequence
// (CSI, OSC, DCS, …), is replaced by a visible stand-in, so it shows as text
// and the terminal never acts on it.
package termtext

import (
	"strings"
	"unicode/utf8"
)

// Line makes s safe for one line of a terminal: control characters become
// their Unicode control pictures (ESC shows as ␛, BEL as ␇, a newline as ␊),
// C1 controls and bidi overrides become visible escapes, invalid UTF-8 becomes
// U+FFFD, and a tab becomes a space.
func Line(s string) string { return clean(s, false) }

// Block is Line for text shown over several lines: newlines stay, a carriage
// return followed by a newline is folded into it, and tabs become four spaces.
func Block(s string) string { return clean(s, true) }

// Safe reports whether s prints as itself (Line(s) == s).
func Safe(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		}
		if r == '\t' || unsafe(r) {
			return false
		}
	}
	return true
}

func clean(s string, multiline bool) string {
	if Safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n' && multiline:
			b.WriteByte('\n')
		case r == '\r' && multiline && i < len(s) && s[i] == '\n':
			// CRLF: the newline that follows is enough.
		case r == '\t':
			if multiline {
				b.WriteString("    ")
			} else {
				b.WriteByte(' ')
			}
		case r < 0x20:
			b.WriteRune(0x2400 + r) // ␀ … ␟
		case r == 0x7f:
			b.WriteRune('␡')
		case unsafe(r):
			b.WriteString(`\u`)
			const hex = "0123456789abcdef"
			b.WriteByte(hex[r>>12&0xf])
			b.WriteByte(hex[r>>8&0xf])
			b.WriteByte(hex[r>>4&0xf])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafe reports whether r could make a terminal do something or reorder
// what is shown: C0 and C1 controls, DEL, bidi controls, and line or
// paragraph separators.
func unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
