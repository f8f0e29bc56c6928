package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// ConsoleResult is how quickly the console answered keys while the receiver
// took load.
type ConsoleResult struct {
	Load Result // what the receiver took meanwhile
	// Keys is how many key presses were timed; KeyP50, KeyP99 and KeyMax are
	// from sending a key to the end of the first frame drawn after the
	// console handled it: what a person waits for.
	Keys                   int
	KeyP50, KeyP99, KeyMax time.Duration
	Frames                 int // frames drawn in all
}

// MeasureConsole runs console as a Bubble Tea program (drawing into nothing,
// at 120×40) while drive loads the receiver (Drive or DrivePaced), and
// presses a key every interval until drive returns:
// down and up in turn, so the selection moves on the live list. The program
// runs its event loop exactly as on a terminal, so a key waits behind
// whatever the storm has queued before it, as it would for a person.
func MeasureConsole(ctx context.Context, console tea.Model, drive func(context.Context) (Result, error), interval time.Duration) (ConsoleResult, error) {
	probe := &keyProbe{inner: console}
	prog := tea.NewProgram(probe, tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithoutSignalHandler())
	runErr := make(chan error, 1)
	go func() {
		_, err := prog.Run()
		runErr <- err
	}()
	prog.Send(tea.WindowSizeMsg{Width: 120, Height: 40})

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	type loadResult struct {
		r   Result
		err error
	}
	loaded := make(chan loadResult, 1)
	go func() {
		r, err := drive(loadCtx)
		loaded <- loadResult{r, err}
	}()

	keys := []tea.KeyMsg{{Type: tea.KeyDown}, {Type: tea.KeyUp}}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var res ConsoleResult
	var lr loadResult
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			prog.Quit()
			return res, ctx.Err()
		case lr = <-loaded:
		case <-tick.C:
			probe.press(time.Now())
			prog.Send(keys[i%len(keys)])
			continue
		}
		break
	}
	prog.Quit()
	if err := <-runErr; err != nil && lr.err == nil {
		lr.err = fmt.Errorf("the console stopped: %w", err)
	}
	res.Load = lr.r
	lat, frames := probe.results()
	res.Keys, res.Frames = len(lat), frames
	if len(lat) > 0 {
		slices.Sort(lat)
		res.KeyP50 = lat[len(lat)/2]
		res.KeyP99 = lat[min(len(lat)-1, len(lat)*99/100)]
		res.KeyMax = lat[len(lat)-1]
	}
	return res, lr.err
}

// keyProbe wraps the console: it notes when each timed key reaches Update
// and when the frame after it has been drawn.
type keyProbe struct {
	inner tea.Model

	mu      sync.Mutex
	sent    []time.Time // keys sent, not yet handled, oldest first
	handled []time.Time // keys handled, waiting for their frame
	lat     []time.Duration
	frames  int
}

func (p *keyProbe) press(at time.Time) {
	p.mu.Lock()
	p.sent = append(p.sent, at)
	p.mu.Unlock()
}

func (p *keyProbe) results() ([]time.Duration, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.lat), p.frames
}

func (p *keyProbe) Init() tea.Cmd { return p.inner.Init() }

func (p *keyProbe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	p.inner, cmd = p.inner.Update(msg)
	if k, ok := msg.(tea.KeyMsg); ok && (k.Type == tea.KeyDown || k.Type == tea.KeyUp) {
		p.mu.Lock()
		if len(p.sent) > 0 {
			p.handled = append(p.handled, p.sent[0])
			p.sent = p.sent[1:]
		}
		p.mu.Unlock()
	}
	return p, cmd
}

func (p *keyProbe) View() string {
	v := p.inner.View()
	now := time.Now()
	p.mu.Lock()
	p.frames++
	for _, at := range p.handled {
		p.lat = append(p.lat, now.Sub(at))
	}
	p.handled = p.handled[:0]
	p.mu.Unlock()
	return v
}
