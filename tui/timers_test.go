package tui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
)

// dressedSource is the real Service with the timer and storm fields set on
// what it returns, as storage will once it fills them.
type dressedSource struct {
	*incidents.Service
	mu     sync.Mutex
	dress  map[int64]func(*incidents.Incident)
	health *incidents.Health // when set, what Health says
}

func (s *dressedSource) Health() incidents.Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.health != nil {
		return *s.health
	}
	return s.Service.Health()
}

func dressed(svc *incidents.Service) *dressedSource {
	return &dressedSource{Service: svc, dress: map[int64]func(*incidents.Incident){}}
}

func (s *dressedSource) set(id int64, fn func(*incidents.Incident)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dress[id] = fn
}

func (s *dressedSource) apply(in *incidents.Incident) *incidents.Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fn := s.dress[in.ID]; fn != nil {
		cp := *in
		fn(&cp)
		return &cp
	}
	return in
}

func (s *dressedSource) ListIncidents(ctx context.Context, f incidents.Filter) (incidents.Page[*incidents.Incident], error) {
	p, err := s.Service.ListIncidents(ctx, f)
	for i, in := range p.Items {
		p.Items[i] = s.apply(in)
	}
	return p, err
}

func (s *dressedSource) Incident(ctx context.Context, id int64) (*incidents.Incident, error) {
	in, err := s.Service.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.apply(in), nil
}

func timeP(t time.Time) *time.Time { return &t }

func TestTimersAndStormInTheDetail(t *testing.T) {
	f := newFixture(t)
	acked := f.ingest(event{title: "acked with a timeout", sev: incidents.Sev2})
	if _, err := f.svc.Acknowledge(context.Background(), acked.ID, incidents.ByAPI); err != nil {
		t.Fatal(err)
	}
	storm := f.ingest(event{title: "flapping probe", sev: incidents.Sev1})
	for i := 0; i < 3; i++ {
		f.ingest(event{title: "flapping probe", sev: incidents.Sev1})
	}
	plain := f.ingest(event{title: "no timers", sev: incidents.Sev3})
	src := dressed(f.svc)
	now := f.now()
	src.set(acked.ID, func(in *incidents.Incident) {
		in.UnacknowledgesAt = timeP(now.Add(4 * time.Minute))
		in.AutoResolvesAt = timeP(now.Add(2*time.Hour + 30*time.Second))
	})
	src.set(storm.ID, func(in *incidents.Incident) {
		in.Storming = true
		in.AutoResolvesAt = timeP(now.Add(-time.Second)) // due, not yet acted on
	})
	d := drive(t, New(src, f.options()), 100, 30)

	// The list: the storm shows in the REP column, as a symbol.
	row := lineWith(d.m.View(), "flapping probe")
	if !strings.Contains(row, "×3⚡ TRIG") {
		t.Fatalf("storming row %q", row)
	}
	col := -1
	for _, l := range strings.Split(d.m.View(), "\n") {
		i := strings.Index(l, "TRIG")
		if i < 0 {
			i = strings.Index(l, " ack ")
		}
		if i < 0 || !strings.Contains(l, "#") {
			continue
		}
		if w := ansi.StringWidth(l[:i]); col >= 0 && w != col && !strings.Contains(l, " ack ") {
			t.Fatalf("status column at %d, want %d: %q", w, col, l)
		} else if col < 0 {
			col = w
		}
	}
	if r := lineWith(d.m.View(), "no timers"); strings.Contains(r, "⚡") {
		t.Fatalf("a quiet incident storms: %q", r)
	}

	// The storming incident's page.
	d.key("enter")
	d.until("the detail", func(m *Model) bool { return m.detail.in != nil && m.detail.in.ID == storm.ID })
	screen := d.m.View()
	header := strings.Split(screen, "\n")[d.m.header.height()+1]
	if !strings.Contains(header, "TRIG ⚡STORM flapping probe") {
		t.Fatalf("detail header %q", header)
	}
	if l := lineWith(screen, "Storm "); !strings.Contains(l, "20+ triggers a minute") || !strings.Contains(l, "every 10th repeat is listed") {
		t.Fatalf("storm field %q", l)
	}
	if l := lineWith(screen, "Auto-resolve"); !strings.Contains(l, clock(now.Add(-time.Second))+"  due now") {
		t.Fatalf("a due timer reads %q", l)
	}
	if strings.Contains(screen, "Ack expires") {
		t.Fatal("an acknowledge timeout that is not set is shown")
	}

	// The acknowledged one's page: both timers, absolute and relative.
	d.key("esc")
	for d.m.selectedID() != acked.ID {
		d.key("j")
	}
	d.key("enter")
	d.until("the detail", func(m *Model) bool { return m.detail.in != nil && m.detail.in.ID == acked.ID })
	screen = d.m.View()
	if l := lineWith(screen, "Ack expires"); !strings.Contains(l, clock(now.Add(4*time.Minute))+"  in 4m") {
		t.Fatalf("ack timeout reads %q", l)
	}
	if l := lineWith(screen, "Auto-resolve"); !strings.Contains(l, clock(now.Add(2*time.Hour+30*time.Second))+"  in 2h") {
		t.Fatalf("resolve timer reads %q", l)
	}
	if strings.Contains(screen, "STORM") {
		t.Fatal("a quiet incident storms")
	}

	// An incident without timers shows neither.
	d.key("esc")
	for d.m.selectedID() != plain.ID {
		d.key("j")
	}
	d.key("enter")
	d.until("the detail", func(m *Model) bool { return m.detail.in != nil && m.detail.in.ID == plain.ID })
	if s := d.m.View(); strings.Contains(s, "Ack expires") || strings.Contains(s, "Auto-resolve") || strings.Contains(s, "Storm") {
		t.Fatalf("timers shown where none are set:\n%s", s)
	}
}

func TestTimersMoveAlongWithTheClock(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "resolves itself", sev: incidents.Sev2})
	src := dressed(f.svc)
	at := f.now().Add(3 * time.Minute)
	src.set(a.ID, func(in *incidents.Incident) { in.AutoResolvesAt = timeP(at) })
	var mu sync.Mutex
	now := f.now()
	opts := f.options()
	opts.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	d := drive(t, New(src, opts), 100, 30)
	d.key("enter")
	d.until("the detail", func(m *Model) bool { return m.detail.in != nil })
	if l := lineWith(d.m.View(), "Auto-resolve"); !strings.Contains(l, "in 3m") {
		t.Fatalf("%q", l)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	d.send(tickMsg{})
	if l := lineWith(d.m.View(), "Auto-resolve"); !strings.Contains(l, "in 1m") {
		t.Fatalf("after two minutes: %q", l)
	}
}

func TestRepeatsCellFitsItsColumn(t *testing.T) {
	for _, n := range []int64{0, 1, 9999, 12345, 999_999, 3_400_000} {
		for _, storming := range []bool{false, true} {
			c := repeatsCell(&incidents.Incident{Suppressed: n, Storming: storming})
			if w := ansi.StringWidth(c); w > repWidth {
				t.Errorf("repeatsCell(%d, storming %v) = %q is %d wide", n, storming, c, w)
			}
			if storming != strings.HasSuffix(c, stormMark) {
				t.Errorf("repeatsCell(%d, storming %v) = %q", n, storming, c)
			}
		}
	}
}

func TestUntilRoundsToTheNearestUnit(t *testing.T) {
	now := t0
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "due now"}, {0, "due now"}, {999 * time.Millisecond, "due now"}, {time.Second, "in 1s"},
		{59 * time.Second, "in 59s"}, {time.Minute, "in 1m"}, {4*time.Minute + 40*time.Second, "in 5m"},
		{4*time.Minute + 20*time.Second, "in 4m"}, {59*time.Minute + 40*time.Second, "in 1h"},
		{90 * time.Minute, "in 2h"}, {2*time.Hour + 29*time.Minute, "in 2h"}, {47 * time.Hour, "in 47h"},
		{47*time.Hour + 40*time.Minute, "in 2d"}, {10 * 24 * time.Hour, "in 10d"},
	} {
		if got := until(now, now.Add(c.d)); got != c.want {
			t.Errorf("until(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
