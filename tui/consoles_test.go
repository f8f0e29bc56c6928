package tui_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"klaxon/incidents"
	"klaxon/internal/testkit"
	"klaxon/notify"
	"klaxon/receiver"
	"klaxon/remote"
	"klaxon/sshconsole"
	"klaxon/tui"
)

// The console in klaxon's own terminal, klaxon attach over the API and an
// SSH console show the same screen and ring on the same events, a re-alert
// included: each hears the world on the one road of changes. Each runs as a
// real program, its output read by a small terminal (screen below).
func TestTheThreeConsolesShowAndRingTheSame(t *testing.T) {
	_, svc, integ := testkit.Service(t, "default")
	ingest := func(title string, sev incidents.Severity) *incidents.Incident {
		t.Helper()
		res, err := svc.Ingest(context.Background(), integ, incidents.Event{Key: title, Title: title, Severity: sev, Action: incidents.Trigger},
			&incidents.Request{At: time.Now(), Method: "POST", Path: "/default/push-events"})
		if err != nil {
			t.Fatal(err)
		}
		return res.Incident
	}
	ingest("disk 91% on db-2", incidents.Sev2)

	rs := receiver.New(svc, receiver.Options{BaseURL: "http://x", APIToken: "tok"})
	api := httptest.NewServer(rs)
	t.Cleanup(func() { rs.CloseStreams(); api.Close() })
	started := time.Now() // every console's clock: the same ages on every screen
	opts := tui.Options{WebhookURL: "http://x/" + integ.Token + "/push-events", Bell: true, Now: func() time.Time { return started }}

	local, attached := newScreen(), newScreen()
	presses := []func(string){
		runProgram(t, svc, opts, local),
		runProgram(t, remote.New(api.URL, "tok"), opts, attached),
	}
	overSSH, press := runSSH(t, svc, opts)
	presses = append(presses, press)
	consoles := map[string]*screen{"local": local, "attach": attached, "ssh": overSSH}

	same := func(what string, want ...string) string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			texts := map[string]string{}
			for name, s := range consoles {
				texts[name] = s.text()
			}
			// The attached console says where it is attached; else the same.
			host := strings.TrimPrefix(api.URL, "http://")
			attachedTo := strings.Contains(firstLine(texts["attach"]), " @"+host+" ")
			texts["attach"] = sameHeader(strings.Replace(texts["attach"], " @"+host, "", 1))
			texts["local"], texts["ssh"] = sameHeader(texts["local"]), sameHeader(texts["ssh"])
			agree := attachedTo && texts["local"] == texts["attach"] && texts["local"] == texts["ssh"]
			for _, w := range want {
				agree = agree && strings.Contains(texts["local"], w)
			}
			if agree {
				return texts["local"]
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the consoles differ or lack %q:\nlocal:\n%s\nattach:\n%s\nssh:\n%s", what, want, texts["local"], texts["attach"], texts["ssh"])
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	rings := func(what string, n int) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for name, s := range consoles {
			for s.bells() < n {
				if time.Now().After(deadline) {
					t.Fatalf("%s: the %s console rang %d times, want %d", what, name, s.bells(), n)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}

	same("at the start", "disk 91% on db-2", "[1 Open 1]", "● live", "1/1")
	// A new sev1: every console rings once and marks it new, at the top
	// under a cursor nobody moved.
	x := ingest("checkout is down", incidents.Sev1)
	rings("a new sev1", 1)
	screen := same("a new sev1", "▶!SEV1", "checkout is down", "[1 Open 2]")
	if !strings.Contains(lineOf(screen, "disk 91%"), "  SEV2") {
		t.Fatalf("the old incident is marked:\n%s", screen)
	}
	// A repeat rings nowhere.
	ingest("checkout is down", incidents.Sev1)
	same("a repeat", "×1")
	// The notifier's re-alert of the sev2 rings everywhere, and marks it.
	n := notify.New(svc, notify.Options{Realert: map[incidents.Severity]time.Duration{incidents.Sev2: time.Nanosecond}})
	n.Realert(context.Background())
	rings("a re-alert", 2)
	screen = same("a re-alert", " !SEV2")
	if !strings.Contains(lineOf(screen, "checkout is down"), "▶!SEV1") {
		t.Fatalf("the re-alert moved the cursor or unmarked the new sev1:\n%s", screen)
	}
	// A key moves every cursor onto the re-alerted row: seen there.
	for _, press := range presses {
		press("j")
	}
	same("a key", "▶ SEV2    #1", " !SEV1    #"+strconv.FormatInt(x.ID, 10), "2/2")
	for name, s := range consoles {
		if s.bells() != 2 {
			t.Fatalf("the %s console rang %d times for a new sev1 and a re-alert", name, s.bells())
		}
	}
}

func lineOf(screen, s string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// runProgram runs the console over src into s, as klaxon runs it, and
// returns what presses a key.
func runProgram(t *testing.T, src tui.Source, opts tui.Options, s *screen) func(string) {
	t.Helper()
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	opts.Renderer = r
	in, inW := io.Pipe()
	p, done := tui.NewProgram(src, opts, tea.WithInput(in), tea.WithOutput(s), tea.WithoutSignals())
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		p.Run()
	}()
	t.Cleanup(func() {
		p.Quit()
		<-ended
		done()
		inW.Close()
	})
	return func(k string) { p.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}) }
}

// runSSH serves the console over SSH and opens a session with a terminal
// of 80×24, as a person on call would. press types a key.
func runSSH(t *testing.T, svc *incidents.Service, opts tui.Options) (_ *screen, press func(string)) {
	t.Helper()
	dir := t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, gossh.MarshalAuthorizedKey(key.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := sshconsole.New(svc, sshconsole.Options{Addr: "127.0.0.1:0", HostKeyPath: filepath.Join(dir, "host_key"), AuthorizedKeys: keys, Console: opts})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	client, err := gossh.Dial("tcp", l.Addr().String(), &gossh.ClientConfig{User: "oncall", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sess.Close()
		client.Close()
		srv.Shutdown(context.Background())
	})
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	s := newScreen()
	stdin, _ := sess.StdinPipe()
	s.answer = func(query string) { // as a terminal answers the renderer's questions
		switch {
		case strings.HasPrefix(query, "\x1b]11;?"):
			stdin.Write([]byte("\x1b]11;rgb:0000/0000/0000\x07"))
		case query == "\x1b[c":
			stdin.Write([]byte("\x1b[?62;22c"))
		}
	}
	sess.Stdout = s
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return s, func(k string) { stdin.Write([]byte(k)) }
}

// screen is a terminal of 80×24, enough of one for what Bubble Tea's
// renderer writes: text, CR and LF, cursor moves, erasing, and the bell;
// colours and modes are ignored. It counts the bells that reach it.
type screen struct {
	mu     sync.Mutex
	cells  [24][80]string
	row    int
	col    int
	rang   int
	rest   []byte // an escape sequence cut between two writes
	answer func(query string)
}

func newScreen() *screen { return &screen{} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := append(s.rest, p...)
	s.rest = nil
	for len(b) > 0 {
		switch c := b[0]; {
		case c == 0x1b:
			n := seqLen(b)
			if n == 0 {
				s.rest = append([]byte(nil), b...) // wait for the rest
				return len(p), nil
			}
			s.escape(string(b[:n]))
			b = b[n:]
		case c == '\a':
			s.rang++
			b = b[1:]
		case c == '\r':
			s.col = 0
			b = b[1:]
		case c == '\n':
			s.row = min(s.row+1, 23)
			b = b[1:]
		case c < 0x20:
			b = b[1:]
		default:
			if !utf8.FullRune(b) {
				s.rest = append([]byte(nil), b...) // wait for the rest
				return len(p), nil
			}
			r, size := utf8.DecodeRune(b)
			w := max(ansi.StringWidth(string(r)), 1)
			if s.col < 80 {
				s.cells[s.row][s.col] = string(r)
				for i := 1; i < w && s.col+i < 80; i++ {
					s.cells[s.row][s.col+i] = "\x00" // the rest of a wide character
				}
			}
			s.col += w
			b = b[size:]
		}
	}
	return len(p), nil
}

// seqLen is the length of the escape sequence b starts with, 0 when b
// holds only its beginning.
func seqLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '[':
		for i := 2; i < len(b); i++ {
			if b[i] >= 0x40 && b[i] <= 0x7e {
				return i + 1
			}
		}
		return 0
	case ']':
		for i := 2; i < len(b); i++ {
			if b[i] == '\a' {
				return i + 1
			}
			if b[i] == 0x1b && i+1 < len(b) && b[i+1] == '\\' {
				return i + 2
			}
		}
		return 0
	}
	return 2
}

func (s *screen) escape(seq string) {
	if s.answer != nil && (strings.HasPrefix(seq, "\x1b]11;?") || seq == "\x1b[c") {
		// At once, in the order asked, as a terminal does: answered from
		// another goroutine under load, the answer could come after the
		// program stopped waiting for it and be read as typed keys.
		s.answer(seq)
	}
	if !strings.HasPrefix(seq, "\x1b[") {
		return
	}
	params, final := seq[2:len(seq)-1], seq[len(seq)-1]
	if strings.HasPrefix(params, "?") {
		return // modes
	}
	num := func(i, def int) int {
		parts := strings.Split(params, ";")
		if i < len(parts) {
			if n, err := strconv.Atoi(parts[i]); err == nil {
				return n
			}
		}
		return def
	}
	switch final {
	case 'H':
		s.row, s.col = min(max(num(0, 1)-1, 0), 23), min(max(num(1, 1)-1, 0), 79)
	case 'A':
		s.row = max(s.row-num(0, 1), 0)
	case 'B':
		s.row = min(s.row+num(0, 1), 23)
	case 'K':
		from, to := s.col, 80
		switch num(0, 0) {
		case 1:
			from, to = 0, s.col+1
		case 2:
			from = 0
		}
		for i := from; i < min(to, 80); i++ {
			s.cells[s.row][i] = " "
		}
	case 'J':
		if num(0, 0) == 2 {
			s.cells = [24][80]string{}
			return
		}
		for i := s.col; i < 80; i++ {
			s.cells[s.row][i] = " "
		}
		for r := s.row + 1; r < 24; r++ {
			s.cells[r] = [80]string{}
		}
	}
}

// text is what the screen shows, its lines' trailing blanks trimmed.
func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := make([]string, 24)
	for r := range s.cells {
		var b strings.Builder
		for _, c := range s.cells[r] {
			if c == "\x00" {
				continue
			}
			if c == "" {
				c = " "
			}
			b.WriteString(c)
		}
		lines[r] = strings.TrimRight(b.String(), " ")
	}
	return strings.Join(lines, "\n")
}

func (s *screen) bells() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rang
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// sameHeader has the first line's words only, one space apart.
func sameHeader(s string) string {
	first, rest, _ := strings.Cut(s, "\n")
	return strings.Join(strings.Fields(first), " ") + "\n" + rest
}
