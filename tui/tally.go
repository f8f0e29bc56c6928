package tui

import (
	"context"
	"errors"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

// counts are the numbers in the header and on the tabs.
type counts struct {
	sev      [4]int // open incidents by severity: sev1, sev2, sev3, none
	open     int    // open incidents the filter selects
	resolved int    // resolved incidents the filter selects
	suppressed,
	requests int
	suppressedMore, // the count is a lower bound
	requestsMore bool
}

type countsMsg struct {
	gen  int
	c    counts
	err  error
	took time.Duration // how long counting took
}

// countsDueMsg ends the pause after a count (see refreshPause).
type countsDueMsg struct{ gen int }

// tally is the counts in the header and on the tabs, and their reading:
// debounced as a list's reads are (see refreshPause).
type tally struct {
	c       *common
	counts  counts
	loaded  bool
	gen     int
	loading bool
	dirty   bool
	err     error
}

// refresh counts again, unless a count is in flight or paused: then once
// more after it.
func (t *tally) refresh() tea.Cmd {
	if t.loading {
		t.dirty = true
		return nil
	}
	t.loading = true
	return countCmd(t.c.src, t.gen, t.c.query)
}

// filtered starts over for a new filter: the tabs' counts are unknown until
// counted with it, and a count in flight no longer matters.
func (t *tally) filtered() tea.Cmd {
	t.counts.open, t.counts.resolved = -1, -1
	t.gen++
	t.loading, t.dirty = false, false
	return t.refresh()
}

// update takes the counts' messages.
func (t *tally) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case countsMsg:
		if msg.gen != t.gen {
			return nil
		}
		t.loading = false
		t.err = msg.err
		if msg.err == nil {
			t.counts, t.loaded = msg.c, true
		}
		if t.dirty {
			// Still "loading" for refresh: changes meanwhile wait for the
			// count after the pause.
			t.dirty, t.loading = false, true
			gen := t.gen
			return tea.Tick(refreshPause(msg.took), func(time.Time) tea.Msg { return countsDueMsg{gen} })
		}
	case countsDueMsg:
		if msg.gen != t.gen {
			return nil
		}
		t.loading, t.dirty = false, false // this count sees what changed during the pause
		return t.refresh()
	}
	return nil
}

// countCmd counts everything the header and tabs show.
func countCmd(src Source, gen int, query string) tea.Cmd {
	return func() tea.Msg {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		var (
			c    counts
			errs []error
		)
		count := func(f incidents.Filter) int {
			n, err := src.CountIncidents(ctx, f)
			errs = append(errs, err)
			return n
		}
		tallied := false
		if t, ok := src.(IncidentTallier); ok {
			if tally, err := t.TallyIncidents(ctx); err == nil {
				for i, sev := range severityCycle {
					c.sev[i] = tally.Open[sev]
				}
				c.open, c.resolved, tallied = tally.OpenTotal(), tally.Resolved, true
			}
		}
		if !tallied {
			for i, sev := range severityCycle {
				c.sev[i] = count(incidents.Filter{Status: "open", Severity: &sev})
			}
			c.open = c.sev[0] + c.sev[1] + c.sev[2] + c.sev[3]
			c.resolved = count(incidents.Filter{Status: string(incidents.Resolved)})
		}
		if query != "" {
			// The tabs count what the filter selects; the header stays whole.
			matching := func(list string) int {
				n, err := countMatching(ctx, src, query, list)
				errs = append(errs, err)
				return n
			}
			c.open, c.resolved = matching("open"), matching(string(incidents.Resolved))
		}
		exact := false
		if jc, ok := src.(JournalCounter); ok {
			ns, err1 := jc.CountSuppressed(ctx)
			nr, err2 := jc.CountRequests(ctx)
			if err1 == nil && err2 == nil {
				c.suppressed, c.requests, exact = ns, nr, true
			}
		}
		if !exact {
			// Without a counter, count one page and say when there is more.
			sp, err := src.Suppressed(ctx, chunkSize, "")
			errs = append(errs, err)
			c.suppressed, c.suppressedMore = len(sp.Items), sp.NextCursor != ""
			rp, err := src.Requests(ctx, chunkSize, "")
			errs = append(errs, err)
			c.requests, c.requestsMore = len(rp.Items), rp.NextCursor != ""
		}
		return countsMsg{gen: gen, c: c, err: errors.Join(errs...), took: time.Since(start)}
	}
}
