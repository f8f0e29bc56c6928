package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
	"klaxon/storage"
)

// The benchmarks share one database of 100,000 incidents (and their
// timelines and request journal), seeded once through storage and the
// Service, outside every timed loop:
//
//	go test -run '^$' -bench . ./tui
//
// KLAXON_TUI_BENCH_DIR=dir keeps the database in dir between runs (seeded
// when dir has none) instead of a temporary directory.

const benchIncidents = 100_000

var bench struct {
	once sync.Once
	dir  string
	f    *fixture
	took time.Duration
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.f != nil {
		bench.f.db.Close()
	}
	if bench.dir != "" && os.Getenv("KLAXON_TUI_BENCH_DIR") == "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchFixture returns the shared 100k database, seeding it the first time.
func benchFixture(b *testing.B) *fixture {
	b.Helper()
	bench.once.Do(func() {
		start := time.Now()
		if bench.dir = os.Getenv("KLAXON_TUI_BENCH_DIR"); bench.dir == "" {
			bench.dir, bench.err = os.MkdirTemp("", "klaxon-tui-bench-")
			if bench.err != nil {
				return
			}
		}
		db, err := storage.Open(context.Background(), filepath.Join(bench.dir, "klaxon.db"), storage.Options{})
		if err != nil {
			bench.err = err
			return
		}
		f := &fixture{t: b, db: db}
		f.svc = incidents.NewService(db, f.now)
		bench.f = f
		if f.integ, err = f.svc.IntegrationNamed(context.Background(), "default"); err != nil || f.integ != nil {
			bench.err = err
			return // seeded by an earlier run
		}
		if f.integ, err = f.svc.CreateIntegration(context.Background(), "default", "", "", incidents.KindWebhook); err != nil {
			bench.err = err
			return
		}
		sevs := []incidents.Severity{incidents.Sev1, incidents.Sev2, incidents.Sev2, incidents.Sev3, incidents.Sev3, incidents.Sev3, "", "", "", ""}
		prios := []incidents.Priority{"p1", "p2", "p3", "", "", "p5", ""}
		f.seed(benchIncidents, func(i int) event {
			return event{
				title: fmt.Sprintf("%s on host-%05d: %s", []string{"disk full", "high latency", "5xx rate", "cert expiring", "queue depth"}[i%5], i, "余裕がありません 🔥"[:i%3*3]),
				sev:   sevs[i%len(sevs)], prio: prios[i%len(prios)],
				details: fmt.Sprintf(`{"host":"host-%05d","value":%d,"runbook":"https://runbooks.example.com/%d"}`, i, i%97, i%13),
				untimed: i%4 != 0,
			}
		})
		// A few repeats and resolutions, so every view has rows.
		f.seed(2_000, func(i int) event {
			return event{title: fmt.Sprintf("%s on host-%05d: %s", []string{"disk full", "high latency", "5xx rate", "cert expiring", "queue depth"}[(i*7)%5], i*7, "余裕がありません 🔥"[:(i*7)%3*3]),
				resolve: i%2 == 0, untimed: true}
		})
		bench.took = time.Since(start)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	bench.f.t = b
	return bench.f
}

func BenchmarkSeed100k(b *testing.B) {
	f := benchFixture(b)
	n, err := f.svc.CountIncidents(context.Background(), incidents.Filter{Status: "all"})
	if err != nil || n != benchIncidents {
		b.Fatalf("%d incidents, %v", n, err)
	}
	b.ReportMetric(bench.took.Seconds(), "seed-s")
	for i := 0; i < b.N; i++ {
	}
}

// BenchmarkStartup is the time from New to the first full screen: the
// subscription, the first page of open incidents and every count.
func BenchmarkStartup(b *testing.B) {
	f := benchFixture(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := drive(b, New(f.svc, f.options()), 120, 35)
		if d.m.open().win.Len() == 0 {
			b.Fatal("no rows")
		}
		_ = d.m.View()
		d.m.sub.close()
	}
}

// benchKey measures one key press: Update and the View that follows. The
// loads a press starts run in the background, as in the program, outside
// the timer.
func benchKey(b *testing.B, width, height int, keys ...string) {
	f := benchFixture(b)
	d := drive(b, New(f.svc, f.options()), width, height)
	msgs := make([]tea.KeyMsg, len(keys))
	for i, k := range keys {
		msgs[i] = keyMsg(k)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, cmd := d.m.Update(msgs[i%len(msgs)])
		d.m = m.(Model)
		_ = d.m.View()
		if cmd != nil || len(d.msgs) > 0 {
			b.StopTimer()
			d.run(cmd)
			d.settleLoads()
			b.StartTimer()
		}
	}
}

func BenchmarkKeyDown(b *testing.B)        { benchKey(b, 120, 35, "j") }
func BenchmarkKeyDown80x24(b *testing.B)   { benchKey(b, 80, 24, "j") }
func BenchmarkKeyPageDown(b *testing.B)    { benchKey(b, 120, 35, "pgdown") }
func BenchmarkKeyUpDown(b *testing.B)      { benchKey(b, 120, 35, "j", "j", "k") }
func BenchmarkKeyMark(b *testing.B)        { benchKey(b, 120, 35, "space") }
func BenchmarkKeyToggleHelp(b *testing.B)  { benchKey(b, 120, 35, "?") }
func BenchmarkKeySwitchViews(b *testing.B) { benchKey(b, 120, 35, "tab") }

// BenchmarkView draws a full screen of the open list.
func BenchmarkView(b *testing.B) {
	f := benchFixture(b)
	d := drive(b, New(f.svc, f.options()), 120, 35)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = d.m.View()
	}
}

// BenchmarkLiveChange is one change heard from the Source, from the message
// to the redrawn screen: the reload of the visible window and of every
// count, as it happens when a webhook arrives.
func BenchmarkLiveChange(b *testing.B) {
	f := benchFixture(b)
	d := drive(b, New(f.svc, f.options()), 120, 35)
	id := d.m.open().win.items[0].ID
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.send(changesMsg{n: 1, incidents: map[int64]bool{id: true}})
		d.settleLoads()
		_ = d.m.View()
	}
}

// BenchmarkListReload is only the reload of the window a change causes.
func BenchmarkListReload(b *testing.B) {
	f := benchFixture(b)
	d := drive(b, New(f.svc, f.options()), 120, 35)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.run(d.m.open().refresh())
		d.settleLoads()
	}
}

// BenchmarkCounts is the header's and the tabs' counts over 100k incidents.
func BenchmarkCounts(b *testing.B) {
	f := benchFixture(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		msg := countCmd(f.svc, 0, "")().(countsMsg)
		if msg.err != nil {
			b.Fatal(msg.err)
		}
	}
}

// BenchmarkEndThenHome walks to the last of the open incidents (reading
// the list through) and back to the first.
func BenchmarkEndThenHome(b *testing.B) {
	f := benchFixture(b)
	d := drive(b, New(f.svc, f.options()), 120, 35)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.key("end")
		d.settleLoads()
		if d.m.open().win.more() {
			b.Fatal("end did not reach the end")
		}
		d.key("home")
		d.settleLoads()
	}
}

// BenchmarkFilter types a query and waits for the filtered list and counts.
func BenchmarkFilter(b *testing.B) {
	f := benchFixture(b)
	d := drive(b, New(f.svc, f.options()), 120, 35)
	queries := []string{"host-0420", "latency"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.run(d.m.update(queryMsg{q: queries[i%2]}))
		d.settleLoads()
		if d.m.open().win.Len() == 0 {
			b.Fatal("the filter found nothing")
		}
	}
}

// BenchmarkDetail opens the selected incident's page.
func BenchmarkDetail(b *testing.B) {
	f := benchFixture(b)
	d := drive(b, New(f.svc, f.options()), 120, 35)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.key("enter")
		d.settleLoads()
		_ = d.m.View()
		d.key("esc")
	}
}

// BenchmarkChangeToScreen is the time from a webhook's commit (Ingest has
// returned, the change is published) to the model holding the new incident,
// ready to draw, with 100,000 incidents in the database.
func BenchmarkChangeToScreen(b *testing.B) {
	f := benchFixture(b)
	d := drive(b, New(f.svc, f.options()), 120, 35)
	// Arrivals are newer than every seeded incident, so they sort first.
	f.at.Store(int64(100 * 24 * time.Hour / time.Millisecond))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d.settle()
		in := f.ingest(event{title: fmt.Sprintf("bench arrival %d %d", time.Now().UnixNano(), i), sev: incidents.Sev1, prio: "p1"})
		b.StartTimer()
		d.until("the arrival", func(m *Model) bool { return m.hasOpen(in.ID) })
		_ = d.m.View()
	}
	b.StopTimer()
	// Leave the shared database as it was: resolve the arrivals.
	for _, it := range d.m.open().win.items {
		if it.Priority == "p1" && it.Severity == incidents.Sev1 && it.Suppressed == 0 && len(it.Title) > 14 && it.Title[:14] == "bench arrival " {
			f.svc.Resolve(context.Background(), it.ID, incidents.ByAPI)
		}
	}
}

// BenchmarkStorm10k sends 10,000 webhooks (from 256 senders) at a console
// and counts what they cost it: messages from the subscription and frames
// drawn. One op is the whole storm.
func BenchmarkStorm10k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := newFixture(b)
		d := drive(b, New(f.svc, f.options()), 120, 35)
		d.handled = map[string]int{}
		f.liveFrom()
		b.StartTimer()
		done := make(chan struct{})
		go func() {
			defer close(done)
			f.seed(10_000, func(i int) event {
				return event{title: fmt.Sprintf("storm %d", i%2500), sev: incidents.Sev2, untimed: true}
			})
		}()
		frames := 0
		for stormDone := false; ; {
			select {
			case msg := <-d.msgs:
				d.send(msg)
				_ = d.m.View()
				frames++
				continue
			case <-done:
				stormDone = true
				done = nil
			case <-time.After(50 * time.Millisecond):
			}
			if stormDone && d.m.loadedAll() && d.m.c.tally.counts.requests == 10_000 && len(d.msgs) == 0 {
				break
			}
		}
		b.StopTimer()
		if d.m.c.tally.counts.open != 2500 || d.m.c.tally.counts.suppressed == 0 {
			b.Fatalf("after the storm: %+v", d.m.c.tally.counts)
		}
		b.ReportMetric(float64(d.handled["tui.changesMsg"]), "change-msgs/storm")
		b.ReportMetric(float64(frames), "updates/storm")
		d.m.sub.close()
	}
}
