package tui

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"klaxon/incidents"
)

const hostile = "\x1b]0;pwned\x07\x1b[2Jboom"

// controlIn returns the first byte or rune of s a terminal would act on:
// C0 controls but newline, DEL, and C1 controls.
// A byte that is not valid UTF-8 counts too: a terminal in an 8-bit mode
// could read 0x9b as CSI.
func controlIn(s string) (rune, bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\n':
		case r == utf8.RuneError && size == 1:
			return rune(s[i-1]), true
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			return r, true
		}
	}
	return 0, false
}

func TestWebhookTextIsInertEverywhere(t *testing.T) {
	f := newFixture(t)
	// Past the Service's rules for names: an older database, or a klaxon
	// over the network, can hold any.
	evil := &incidents.Integration{Name: "evil\x1b[31m\x9b2J", Service: "svc\x07", Kind: incidents.KindWebhook, Token: incidents.NewToken(), CreatedAt: t0}
	if err := f.db.CreateIntegration(context.Background(), evil); err != nil {
		t.Fatal(err)
	}
	in := f.ingest(event{title: hostile, sev: incidents.Sev1, integ: evil,
		details: `"line one\n\u001b[2J\u001b]52;c;ZXZpbA==\u0007 \u009b31m \u202eevil"`})
	f.ingest(event{title: hostile, sev: incidents.Sev1, integ: evil, details: `{"k":"\u001b[5m"}`}) // a suppressed repeat
	err := f.svc.Journal(context.Background(), &incidents.Request{At: t0, Method: "PO\x1bST", Path: "/evil\x1b]0;t\x07/push-events",
		Remote: "1.2.3.4\x1b[2J", Status: 400, Outcome: incidents.OutcomeError, Error: "bad \x1b[2J json\x07",
		Headers: map[string][]string{"X-Evil\x1b": {"v\x1b]52;c;x\x07"}}, Body: "{\x1b[2J\x07", Response: []byte(`{"ok":false,"error":"\u001b[2J"}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := drive(t, New(f.svc, f.options()), 120, 40)
	check := func(where string) {
		t.Helper()
		screen := d.m.View()
		if r, ok := controlIn(screen); ok {
			t.Fatalf("%s: the screen carries control character %U:\n%q", where, r, screen)
		}
	}
	if !screenHas(&d.m, "␛]0;pwned␇␛[2Jboom") {
		t.Fatalf("the title is not shown as inert text:\n%s", d.m.View())
	}
	check("open list")
	d.key("enter")
	d.until("the detail", func(m *Model) bool { return m.detail.in != nil && m.detail.in.ID == in.ID })
	check("incident detail")
	for i := 0; i < 5; i++ {
		d.key("pgdown")
		check("incident detail, scrolled")
	}
	d.key("esc", "2")
	d.settle()
	check("suppressed")
	d.key("4")
	d.settle()
	check("requests")
	d.key("enter")
	check("request detail")
	d.key("pgdown")
	check("request detail, scrolled")
	d.key("esc", "i")
	d.settle()
	if !screenHas(&d.m, "evil␛[31m") {
		t.Fatalf("the integrations page does not show the hostile name inert:\n%s", d.m.View())
	}
	check("integrations")
	d.key("down", "enter")
	check("setup")
	d.key("esc", "1", "/")
	d.typeText("boom")
	d.key("enter")
	d.settle()
	check("filtered")
	if d.m.open().win.Len() != 1 {
		t.Fatal("filter on the hostile title found nothing")
	}
}

func TestReadsInEveryColourProfile(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "checkout down", sev: incidents.Sev1, prio: "p1"})
	f.ingest(event{title: "slow queries", sev: incidents.Sev2})
	f.ingest(event{title: "cert expiring", sev: incidents.Sev3})
	x := f.ingest(event{title: "no severity", prio: "p3"})
	if _, err := f.svc.Acknowledge(context.Background(), x.ID, incidents.ByAPI); err != nil {
		t.Fatal(err)
	}
	profiles := map[string]termenv.Profile{"truecolor": termenv.TrueColor, "256": termenv.ANSI256, "16": termenv.ANSI, "none": termenv.Ascii}
	for name, p := range profiles {
		t.Run(name, func(t *testing.T) {
			r := lipgloss.NewRenderer(io.Discard)
			r.SetColorProfile(p)
			opts := f.options()
			opts.Renderer = r
			d := drive(t, New(f.svc, opts), 80, 24)
			screen := d.m.View()
			lines := strings.Split(screen, "\n")
			if len(lines) != 24 {
				t.Fatalf("%d lines, want 24", len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > 80 {
					t.Fatalf("line %d is %d wide: %q", i, w, l)
				}
			}
			plain := ansi.Strip(screen)
			for _, label := range []string{"SEV1", "SEV2", "SEV3", "TRIG", "ack", "▶"} {
				if !strings.Contains(plain, label) {
					t.Fatalf("%q missing: severity, status and selection must read without colour\n%s", label, plain)
				}
			}
			switch p {
			case termenv.Ascii:
				if strings.Contains(screen, "\x1b") {
					t.Fatal("escape sequences without colour")
				}
			case termenv.ANSI:
				if strings.Contains(screen, "38;5;") || strings.Contains(screen, "38;2;") {
					t.Fatal("256-colour or true-colour codes on a 16-colour terminal")
				}
			default:
				if !strings.Contains(screen, "\x1b[") {
					t.Fatal("no colour at all")
				}
			}
		})
	}
}

func TestReflowsOnResize(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 40; i++ {
		f.ingest(event{title: strings.Repeat("long title ", 1+i%5) + itoa(int64(i)), sev: incidents.Sev2})
	}
	d := drive(t, New(f.svc, f.options()), 120, 35)
	d.key("end") // the last row, so a shorter screen must scroll to keep it
	d.settle()
	for _, size := range [][2]int{{80, 24}, {60, 15}, {200, 50}, {40, 8}, {80, 24}} {
		d.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, help := range []bool{false, true} {
			if d.m.footer.help.ShowAll != help {
				d.key("?")
			}
			screen := d.m.View()
			lines := strings.Split(screen, "\n")
			if len(lines) != size[1] {
				t.Fatalf("%dx%d help=%v: %d lines", size[0], size[1], help, len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Fatalf("%dx%d: line %d is %d wide: %q", size[0], size[1], i, w, l)
				}
			}
			if !strings.Contains(screen, "▶") {
				t.Fatalf("%dx%d help=%v: the selected row is off screen:\n%s", size[0], size[1], help, screen)
			}
		}
	}
	// The detail page rewraps too.
	d.key("enter")
	d.until("the detail", func(m *Model) bool { return m.detail.in != nil })
	for _, size := range [][2]int{{120, 35}, {50, 12}} {
		d.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		lines := strings.Split(d.m.View(), "\n")
		if len(lines) != size[1] {
			t.Fatalf("detail %dx%d: %d lines", size[0], size[1], len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > size[0] {
				t.Fatalf("detail %dx%d: line %d is %d wide: %q", size[0], size[1], i, w, l)
			}
		}
	}
}

func TestWideCharactersKeepColumnsAligned(t *testing.T) {
	f := newFixture(t)
	titles := []string{
		"plain ascii title",
		"ディスクがいっぱいです — データベース db-1 の容量が不足しています",
		"🔥🔥 checkout on fire 🔥🔥 and a very long tail that will not fit",
		"combining: e\u0301e\u0301e\u0301 and zero\u200bwidth",
		"한국어 경고: 결제 서비스 지연",
		"mixed 中文 and emoji 👩‍💻 family",
	}
	for _, title := range titles {
		f.ingest(event{title: title, sev: incidents.Sev2})
	}
	d := drive(t, New(f.svc, f.options()), 80, 24)
	col := -1
	rows := 0
	for _, l := range strings.Split(d.m.View(), "\n") {
		i := strings.Index(l, "TRIG")
		if i < 0 {
			continue
		}
		rows++
		w := ansi.StringWidth(l[:i])
		if col >= 0 && w != col {
			t.Fatalf("status column at %d, want %d, in %q", w, col, l)
		}
		col = w
		if ansi.StringWidth(l) > 80 {
			t.Fatalf("row wider than the screen: %q", l)
		}
	}
	if rows != len(titles) {
		t.Fatalf("%d rows, want %d", rows, len(titles))
	}
	if !screenHas(&d.m, "…") {
		t.Fatal("long titles are not cut with an ellipsis")
	}
}

func TestHugeTitleCostsNoMoreThanAShortOne(t *testing.T) {
	s := strings.Repeat("x\x1b", 300_000)
	start := time.Now()
	got := oneLine(s, 40)
	if ansi.StringWidth(got) != 40 || !strings.HasSuffix(got, "…") {
		t.Fatalf("oneLine = %q", got)
	}
	if _, bad := controlIn(got); bad {
		t.Fatalf("control left in %q", got)
	}
	_ = start
}

func TestAges(t *testing.T) {
	now := t0
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "now"}, {0, "now"}, {59 * time.Second, "59s"}, {time.Minute, "1m"}, {59 * time.Minute, "59m"},
		{time.Hour, "1h"}, {47 * time.Hour, "47h"}, {48 * time.Hour, "2d"}, {13 * 24 * time.Hour, "13d"},
		{14 * 24 * time.Hour, "2w"}, {999 * 7 * 24 * time.Hour, "999w"}, {20000 * 24 * time.Hour, "old"},
	} {
		if got := age(now, now.Add(-c.d)); got != c.want {
			t.Errorf("age(%v) = %q, want %q", c.d, got, c.want)
		}
		if w := ansi.StringWidth(age(now, now.Add(-c.d))); w > 4 {
			t.Errorf("age(%v) is %d wide", c.d, w)
		}
	}
	for n, want := range map[int64]string{0: "", 1: "×1", 9999: "×9999", 12345: "×12k", 3_400_000: "×3M"} {
		if got := repeats(n); got != want {
			t.Errorf("repeats(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPrettyValue(t *testing.T) {
	for raw, want := range map[string]string{
		`{"a":1,"b":[1,2]}`:    "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2\n  ]\n}",
		`"plain text\nline 2"`: "plain text\nline 2",
		`"{\"nested\":true}"`:  "{\n  \"nested\": true\n}",
		`null`:                 "",
		``:                     "",
		`not json`:             "not json",
		`42`:                   "42",
	} {
		if got := prettyValue([]byte(raw)); got != want {
			t.Errorf("prettyValue(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestUntitledIncidentsSayUntitled(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "", sev: incidents.Sev2})
	blank := f.ingest(event{title: "  ", sev: incidents.Sev1}) // white space only is no title
	f.ingest(event{title: "has a title", sev: incidents.Sev3})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	if d.m.open().win.Len() != 3 {
		t.Fatalf("%d rows, want 3 (an untitled trigger is never folded)", d.m.open().win.Len())
	}
	rows := 0
	for _, l := range strings.Split(d.m.View(), "\n") {
		if strings.Contains(l, "(untitled)") {
			rows++
		}
	}
	if rows != 2 {
		t.Fatalf("%d rows say (untitled), want 2:\n%s", rows, d.m.View())
	}
	if row := lineWith(d.m.View(), "#"+itoa(blank.ID)+" "); !strings.Contains(row, "(untitled)") {
		t.Fatalf("the selected untitled row %q", row)
	}
	d.key("enter")
	d.until("the detail", func(m *Model) bool { return m.detail.in != nil })
	screen := d.m.View()
	header := strings.Split(screen, "\n")[d.m.header.height()+1]
	if !strings.Contains(header, "#"+itoa(blank.ID)) || !strings.Contains(header, "(untitled)") {
		t.Fatalf("detail header %q", header)
	}
	if row := lineWith(screen, "Title"); !strings.Contains(row, "(untitled)") {
		t.Fatalf("Title field %q", row)
	}
	// In colour, (untitled) is dim: it is not a title someone sent.
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	opts := f.options()
	opts.Renderer = r
	d2 := drive(t, New(f.svc, opts), 100, 24)
	dimOn := strings.Split(NewStyles(r).Dim.Render("X"), "X")[0]
	if dimOn == "" || !strings.Contains(d2.m.View(), dimOn+untitledLabel) {
		t.Fatalf("(untitled) is not drawn dim:\n%q", d2.m.View())
	}
}
