// Package termtext makes untrusted text (anything a webhook sent) safe to
// print on a terminal: every control character, and so every escape sequence
// (CSI, OSC, DCS, …), is replaced by a visible stand-in, so it shows as text
// and the terminal never acts on it.
package termtext

import (
	"strings"
	"unicode"
	"unicode/utf16"
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

// Visible is Line for output where every character must be seen for what it
// is (the CLI's tables): control characters become their control pictures as
// in Line, and C1 controls, bidi controls, line separators and the
// characters that show as nothing (zero-width spaces and joiners, word
// joiners, the BOM, soft hyphens and the other Unicode format characters)
// become a visible marker such as ⟨U+200B⟩, so two strings that look the same
// are the same.
func Visible(s string) string { return mark(s, false) }

// Cell is Visible for a cell of CSV, which may hold several lines: newlines
// and tabs stay (a CSV writer quotes the cell), and a carriage return before
// a newline is folded into it.
func Cell(s string) string { return mark(s, true) }

// Hidden reports whether r shows as nothing, or changes how its neighbours
// show, though it is not a control character: a Unicode format character
// (U+200B–U+200F, U+2060–U+2064, U+FEFF, U+00AD, the bidi controls, tag
// characters, …) or the combining grapheme joiner U+034F.
func Hidden(r rune) bool {
	return r == 0x034f || (r > 0x7f && unicode.Is(unicode.Cf, r))
}

func mark(s string, cell bool) string {
	if visibleAlready(s, cell) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case cell && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case cell && r == '\r' && i < len(s) && s[i] == '\n':
			// CRLF: the newline that follows is enough.
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20:
			b.WriteRune(0x2400 + r) // ␀ … ␟
		case r == 0x7f:
			b.WriteRune('␡')
		case unsafe(r) || Hidden(r):
			b.WriteString("⟨U+")
			writeHex(&b, r)
			b.WriteString("⟩")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func visibleAlready(s string, cell bool) bool {
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		case cell && (r == '\n' || r == '\t'):
		case r == '\t', unsafe(r), Hidden(r):
			return false
		}
	}
	return true
}

// writeHex writes r as at least four upper-case hex digits.
func writeHex(b *strings.Builder, r rune) {
	const hex = "0123456789ABCDEF"
	digits := 4
	for v := r >> 16; v > 0; v >>= 4 {
		digits++
	}
	for d := digits - 1; d >= 0; d-- {
		b.WriteByte(hex[r>>(4*d)&0xf])
	}
}

// JSON makes JSON text safe to print: every control character, C1 control,
// bidi control, line separator and character that shows as nothing (see
// Hidden) that encoding/json leaves raw is written as a \uXXXX escape (a
// character past U+FFFF as its surrogate pair), and invalid UTF-8 as
// \ufffd. Escapes are only needed inside strings, and only there can such
// characters stand in valid JSON, so the text decodes to the same value.
// Newlines, tabs and carriage returns, the whitespace between JSON tokens,
// are left alone (inside a string encoding/json escapes them already).
func JSON(b []byte) []byte {
	clean := true
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if jsonEscapes(r, size) {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = appendEscape(out, utf8.RuneError)
		case jsonEscapes(r, size):
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				out = appendEscape(appendEscape(out, r1), r2)
			} else {
				out = appendEscape(out, r)
			}
		default:
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

func jsonEscapes(r rune, size int) bool {
	if r == '\n' || r == '\t' || r == '\r' {
		return false
	}
	return (r == utf8.RuneError && size == 1) || unsafe(r) || Hidden(r)
}

func appendEscape(out []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(out, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
