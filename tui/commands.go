package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

// loadWindowCmd reads part of list id.
func loadWindowCmd[T any](id listID, gen int, fetch fetcher[T], idOf func(T) int64, req loadReq) tea.Cmd {
	return func() tea.Msg {
		timeout := queryTimeout
		if req.kind == loadEnd {
			timeout *= 4 // walks the whole list
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		pages, err := fetchWindow(ctx, fetch, idOf, req)
		return windowMsg[T]{list: id, gen: gen, req: req, pages: pages, err: err, took: time.Since(start)}
	}
}

// refreshPause is how long the console waits, after a read that took took
// and during which changes came, before it reads again for them. A storm of
// webhooks changes the lists and the counts without pause, and reading again
// at once had the console take a CPU that the receiver in the same process
// needed: counting open incidents reads every entry of an index range (50 ms
// for 300,000 here), and each read is drawn. klaxon bench --console measured
// the receiver at 4,500 events/s beside the console against 14,000 without
// one. Under a storm reads now take at most a tenth of the console's time,
// and the screen follows at most ten times a second and at least once a
// second. A change that comes alone is read at once, as before.
func refreshPause(took time.Duration) time.Duration {
	return min(max(9*took, 100*time.Millisecond), time.Second)
}

// detailMsg carries an incident with its timeline.
type detailMsg struct {
	gen int
	in  *incidents.Incident
	err error
}

func loadDetailCmd(src Source, gen int, id int64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		in, err := src.Incident(ctx, id)
		return detailMsg{gen: gen, in: in, err: err}
	}
}

// actedMsg says how a person's action went, on one incident or on several.
type actedMsg struct {
	act  actMsg // what was asked, with the incidents as seen before
	done []*incidents.Incident
	errs []error
}

// actCmd applies a's action to each of its incidents, one after another.
func actCmd(src Source, a actMsg) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		msg := actedMsg{act: a}
		for _, id := range a.ids {
			in, err := src.Act(ctx, id, a.action)
			if err != nil {
				msg.errs = append(msg.errs, err)
				continue
			}
			msg.done = append(msg.done, in)
		}
		return msg
	}
}

// replayedMsg says how a replay went.
type replayedMsg struct {
	id     int64
	answer string
	err    error
}

func replayCmd(replay func(context.Context, int64) (string, error), id int64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		answer, err := replay(ctx, id)
		return replayedMsg{id: id, answer: answer, err: err}
	}
}

// tickMsg moves the ages on screen along.
type tickMsg struct{}

func tickCmd() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{} })
}

// bellDoneMsg ends the frame that carries the bell.
type bellDoneMsg struct{ n int }
