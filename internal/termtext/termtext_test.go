package termtext

import (
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "disk full on db-1", "disk full on db-1"},
		{"wide", "磁盘已满 🔥", "磁盘已满 🔥"},
		{"csi colour", "\x1b[31mred\x1b[0m", "␛[31mred␛[0m"},
		{"osc title", "\x1b]0;pwned\x07", "␛]0;pwned␇"},
		{"osc52 clipboard", "\x1b]52;c;cm0gLXJmIC8=\x1b\\", "␛]52;c;cm0gLXJmIC8=␛\\"},
		{"osc8 link", "\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\", "␛]8;;http://evil␛\\x␛]8;;␛\\"},
		{"dcs", "\x1bP1$r\x1b\\", "␛P1$r␛\\"},
		{"bel", "ring\a", "ring␇"},
		{"backspace overwrite", "ok\b\bFAIL", "ok␈␈FAIL"},
		{"carriage return overwrite", "all good\rFAILED", "all good␍FAILED"},
		{"newline", "a\nb", "a␊b"},
		{"tab", "a\tb", "a b"},
		{"c1 csi", "\u009b31mx", `\u009b31mx`},
		{"bidi override", "abc\u202edef", `abc\u202edef`},
		{"del", "x\x7f", "x␡"},
		{"nul", "a\x00b", "a␀b"},
		{"invalid utf8", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Line(tt.in)
			if got != tt.want {
				t.Fatalf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, c := range []byte(got) {
				if c < 0x20 || c == 0x7f {
					t.Fatalf("Line(%q) left control byte %#x", tt.in, c)
				}
			}
		})
	}
}

func TestBlock(t *testing.T) {
	got := Block("line one\r\nline\ttwo\x1b[2J\rgone")
	want := "line one\nline    two␛[2J␍gone"
	if got != want {
		t.Fatalf("Block = %q, want %q", got, want)
	}
	if strings.ContainsAny(got, "\x1b\r\a\b") {
		t.Fatalf("control bytes left: %q", got)
	}
}

func FuzzLine(f *testing.F) {
	for _, s := range []string{"", "\x1b[31m", "\x1b]0;x\a", "a\xffb", "\u009b", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Line(s), Block(s)} {
			for _, r := range out {
				if r != '\n' && unsafe(r) {
					t.Fatalf("unsafe rune %U left in %q (from %q)", r, out, s)
				}
			}
		}
		if strings.Contains(Line(s), "\n") {
			t.Fatalf("Line kept a newline: %q", s)
		}
	})
}
