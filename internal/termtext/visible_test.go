package termtext

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestVisible(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "disk full on db-1", "disk full on db-1"},
		{"wide", "磁盘已满 🔥", "磁盘已满 🔥"},
		{"csi colour", "\x1b[31mred\x1b[0m", "␛[31mred␛[0m"},
		{"osc52 clipboard", "\x1b]52;c;cm0gLXJmIC8=\x07", "␛]52;c;cm0gLXJmIC8=␇"},
		{"osc8 link", "\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\", "␛]8;;http://evil␛\\x␛]8;;␛\\"},
		{"c1 csi", "\u009b31mx", "⟨U+009B⟩31mx"},
		{"bidi override", "abc\u202edef", "abc⟨U+202E⟩def"},
		{"bidi isolates", "\u2066a\u2069\u200e\u200f\u061c", "⟨U+2066⟩a⟨U+2069⟩⟨U+200E⟩⟨U+200F⟩⟨U+061C⟩"},
		{"zero width", "db\u200b down\u200c\u200d\u2060\ufeff", "db⟨U+200B⟩ down⟨U+200C⟩⟨U+200D⟩⟨U+2060⟩⟨U+FEFF⟩"},
		{"soft hyphen", "pass\u00adword", "pass⟨U+00AD⟩word"},
		{"tag characters", "a\U000E0041b", "a⟨U+E0041⟩b"},
		{"line separator", "a\u2028b", "a⟨U+2028⟩b"},
		{"newline and tab", "a\nb\tc", "a␊b c"},
		{"invalid utf8", "a\xffb", "a\uFFFDb"},
		{"variation selector stays", "❤\ufe0f", "❤\ufe0f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Visible(tt.in); got != tt.want {
				t.Fatalf("Visible(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	// Two titles that look the same do not any more.
	if Visible("db down") == Visible("db\u200b down") {
		t.Fatal("a zero-width space is not seen")
	}
}

func TestCell(t *testing.T) {
	got := Cell("line one\r\nline\ttwo\x1b[2J\rgone \u202e\u200b")
	want := "line one\nline\ttwo␛[2J␍gone ⟨U+202E⟩⟨U+200B⟩"
	if got != want {
		t.Fatalf("Cell = %q, want %q", got, want)
	}
}

func TestJSON(t *testing.T) {
	v := map[string]any{
		"title":  "pay \x1b]52;c;cm0=\x07 \u009b2J \u202eabc \u200bx\u2066y\u2069\ufeff\u2028\x7f \U000E0041 ok é 🔥",
		"nested": []any{"\u200d", map[string]any{"k\u202e": "\u0085"}},
		"n":      1.5,
	}
	for _, indent := range []bool{false, true} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		if indent {
			enc.SetIndent("", "  ")
		}
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		out := JSON(buf.Bytes())
		for _, s := range []string{"\x1b", "\x07", "\x7f", "\xc2\x9b", "\xc2\x85", "\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\u2028", "\U000E0041"} {
			if bytes.Contains(out, []byte(s)) {
				t.Fatalf("%q left raw in %s", s, out)
			}
		}
		var back any
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		var want any
		json.Unmarshal(buf.Bytes(), &want)
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("decodes to %q, want %q", back, want)
		}
		if indent && !strings.Contains(string(out), "\n  \"n\": 1.5") {
			t.Fatalf("the layout changed: %s", out)
		}
	}
	if plain := []byte(`{"a":"b"}`); &JSON(plain)[0] != &plain[0] {
		t.Fatal("clean JSON was copied")
	}
}

func FuzzVisible(f *testing.F) {
	for _, s := range []string{"", "\x1b[31m", "\u009b", "a\u200bb", "\u202e", "a\xffb", "\U000E0041", "\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Visible(s), Cell(s)} {
			for _, r := range out {
				if r != '\n' && r != '\t' && (unsafe(r) || Hidden(r)) {
					t.Fatalf("rune %U left in %q (from %q)", r, out, s)
				}
			}
		}
		if strings.ContainsAny(Visible(s), "\n\t") {
			t.Fatalf("Visible kept a newline or tab: %q", s)
		}
		b, _ := json.Marshal(s)
		out := JSON(b)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("JSON(%s) = %s: %v", b, out, err)
		}
		var want string
		json.Unmarshal(b, &want)
		if back != want {
			t.Fatalf("JSON(%s) decodes to %q, want %q", b, back, want)
		}
		for _, r := range string(out) {
			if unsafe(r) || Hidden(r) {
				t.Fatalf("rune %U left in %s", r, out)
			}
		}
	})
}
