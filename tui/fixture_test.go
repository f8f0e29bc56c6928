package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"klaxon/incidents"
	"klaxon/storage"
)

// t0 is when the tests' incidents start arriving; the console's clock reads
// t0+10m, so every age on screen is fixed.
var t0 = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

const testURL = "http://127.0.0.1:8080/TOKEN/push-events"

// fixture is a real database and Service in a temp directory.
type fixture struct {
	t     testing.TB
	db    *storage.DB
	svc   *incidents.Service
	integ *incidents.Integration
	at    atomic.Int64 // the next ingest's time, in ms since t0
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db}
	f.svc = incidents.NewService(db, f.now)
	f.integ, err = f.svc.CreateIntegration(context.Background(), "default", "", "", incidents.KindWebhook)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// now is the fixture's clock: always t0+10m.
func (f *fixture) now() time.Time { return t0.Add(10 * time.Minute) }

// liveFrom makes the next incidents arrive after the console's clock, as
// incidents that arrive while it runs do (their age shows "now").
func (f *fixture) liveFrom() {
	base := int64(10 * time.Minute / time.Millisecond)
	for {
		cur := f.at.Load()
		if cur >= base || f.at.CompareAndSwap(cur, base) {
			return
		}
	}
}

// event describes a webhook event for the fixture to ingest.
type event struct {
	title   string
	sev     incidents.Severity
	prio    incidents.Priority
	details string // JSON; empty for none
	resolve bool
	integ   *incidents.Integration
	untimed bool // do not move the fixture's ingest time
}

// ingest sends ev through the Service as the receiver would.
func (f *fixture) ingest(ev event) *incidents.Incident {
	f.t.Helper()
	integ := ev.integ
	if integ == nil {
		integ = f.integ
	}
	body := map[string]any{"title": ev.title}
	if ev.sev != "" {
		body["severity"] = ev.sev
	}
	if ev.prio != "" {
		body["priority"] = ev.prio
	}
	var details json.RawMessage
	if ev.details != "" {
		details = json.RawMessage(ev.details)
		body["body"] = details
	}
	action := incidents.Trigger
	if ev.resolve {
		action = incidents.Resolve
		body["status"] = "resolve"
	}
	raw, err := json.Marshal(body)
	if err != nil {
		f.t.Fatal(err)
	}
	ms := f.at.Load()
	if !ev.untimed {
		ms = f.at.Add(1000)
	}
	req := &incidents.Request{
		At: t0.Add(time.Duration(ms) * time.Millisecond), Method: "POST", Path: "/" + integ.Name + "/push-events",
		Remote: "192.0.2.7:41000", Integration: integ.Name, Body: string(raw),
		Headers: map[string][]string{"Content-Type": {"application/json"}},
	}
	res, err := f.svc.Ingest(context.Background(), integ, incidents.Event{
		Key: ev.title, Title: ev.title, Details: details, Severity: ev.sev, Priority: ev.prio, Action: action, Raw: raw,
	}, req)
	if err != nil {
		f.t.Fatal(err)
	}
	return res.Incident
}

// seed ingests n distinct incidents from several goroutines, so the storage
// writer commits them in batches.
func (f *fixture) seed(n int, title func(i int) event) {
	f.t.Helper()
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < min(n, 256); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f.ingest(title(i))
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
}

func (f *fixture) incident(id int64) *incidents.Incident {
	f.t.Helper()
	in, err := f.svc.Incident(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return in
}

// asciiRenderer draws without any escape sequence, for goldens and for
// checking that nothing from a webhook reaches the terminal.
func asciiRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

func (f *fixture) options() Options {
	return Options{WebhookURL: testURL, Now: f.now, Renderer: asciiRenderer()}
}

// driver runs a Model the way Bubble Tea does (commands in goroutines, their
// messages back through Update, one at a time) but lets the test look at
// the model between messages.
type driver struct {
	t       testing.TB
	m       Model
	msgs    chan tea.Msg
	handled map[string]int // messages handled, by type
}

func drive(t testing.TB, m Model, width, height int) *driver {
	t.Helper()
	d := &driver{t: t, m: m, msgs: make(chan tea.Msg, 4096), handled: map[string]int{}}
	t.Cleanup(d.m.sub.close)
	d.send(tea.WindowSizeMsg{Width: width, Height: height})
	d.run(d.m.Init())
	d.until("the first load", func(m *Model) bool { return m.open().win.loaded && m.c.tally.loaded && m.c.live })
	return d
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() { d.msgs <- cmd() }()
}

func (d *driver) send(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
		return
	}
	d.handled[fmt.Sprintf("%T", msg)]++
	m, cmd := d.m.Update(msg)
	d.m = m.(Model)
	d.run(cmd)
}

// until handles messages until cond holds, failing after a few seconds.
func (d *driver) until(what string, cond func(m *Model) bool) {
	d.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond(&d.m) {
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-deadline:
			d.t.Fatalf("timed out waiting for %s; screen:\n%s", what, d.m.View())
		}
	}
}

// The root's pages, as the components they are.
func (m *Model) open() *list[*incidents.Incident] {
	return m.pages[listOpen].(*list[*incidents.Incident])
}

func (m *Model) resolved() *list[*incidents.Incident] {
	return m.pages[listResolved].(*list[*incidents.Incident])
}

func (m *Model) suppressed() *list[incidents.SuppressedEvent] {
	return m.pages[listSuppressed].(*list[incidents.SuppressedEvent])
}

func (m *Model) requests() *list[*incidents.Request] {
	return m.pages[listRequests].(*list[*incidents.Request])
}

func (m *Model) integrations() *list[integration] {
	return m.pages[listIntegrations].(*list[integration])
}

// loadedAll reports whether no read is in flight.
func (m *Model) loadedAll() bool {
	reading := []bool{m.open().win.loading, m.resolved().win.loading, m.suppressed().win.loading,
		m.requests().win.loading, m.integrations().win.loading, m.c.tally.loading, m.detail.loading}
	for _, r := range reading {
		if r {
			return false
		}
	}
	return true
}

// settleLoads handles messages until no load is in flight.
func (d *driver) settleLoads() {
	d.t.Helper()
	d.until("loads to finish", (*Model).loadedAll)
}

// settle handles messages until no load is in flight and nothing is queued.
func (d *driver) settle() {
	d.t.Helper()
	quiet := func() bool { return d.m.loadedAll() }
	for {
		d.until("loads to finish", func(*Model) bool { return quiet() })
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-time.After(50 * time.Millisecond):
			if quiet() {
				return
			}
		}
	}
}

// key presses keys: names like "enter", "esc", "up", "space", "shift+tab",
// or plain text typed one rune at a time.
func (d *driver) key(keys ...string) {
	for _, k := range keys {
		d.send(keyMsg(k))
	}
}

func keyMsg(k string) tea.KeyMsg {
	special := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "up": tea.KeyUp, "down": tea.KeyDown,
		"home": tea.KeyHome, "end": tea.KeyEnd, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"space": tea.KeySpace, "pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "ctrl+c": tea.KeyCtrlC,
		"backspace": tea.KeyBackspace,
	}
	if t, ok := special[k]; ok {
		if t == tea.KeySpace {
			return tea.KeyMsg{Type: t, Runes: []rune{' '}}
		}
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

func (d *driver) typeText(s string) {
	for _, r := range s {
		d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// selectedID is the incident selected in the incident list on screen.
func (m *Model) selectedID() int64 {
	if l, ok := m.pages[m.shown].(*list[*incidents.Incident]); ok {
		if in, ok := l.win.selected(); ok {
			return in.ID
		}
	}
	return 0
}

func (m *Model) openIDs() []int64 {
	var ids []int64
	for _, in := range m.open().win.items {
		ids = append(ids, in.ID)
	}
	return ids
}

func (m *Model) hasOpen(id int64) bool {
	for _, in := range m.open().win.items {
		if in.ID == id {
			return true
		}
	}
	return false
}

// screenHas reports whether the screen shows s.
func screenHas(m *Model, s string) bool { return strings.Contains(m.View(), s) }
