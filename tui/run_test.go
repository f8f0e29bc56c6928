package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// syncBuffer is an io.Writer safe to read while the program writes.
type syncBuffer struct {
	ch chan []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.ch <- append([]byte(nil), p...)
	return len(p), nil
}

func TestRunQuitsWhenTheContextEnds(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{ch: make(chan []byte, 1024)}
	inR, inW := io.Pipe()
	defer inW.Close()
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, f.svc, f.options(), tea.WithInput(inR), tea.WithOutput(out), tea.WithoutSignals())
	}()
	var seen bytes.Buffer
	deadline := time.After(10 * time.Second)
	for !strings.Contains(seen.String(), "All quiet") {
		select {
		case b := <-out.ch:
			seen.Write(b)
		case <-deadline:
			t.Fatalf("no first screen; output so far: %q", seen.String())
		}
	}
	if !strings.Contains(seen.String(), "\x1b[?1049h") {
		t.Fatal("the console does not use the alternate screen")
	}
	cancel()
	go func() {
		for range out.ch {
		}
	}()
	select {
	case err := <-errc:
		close(out.ch) // the program has stopped writing
		if err != nil {
			t.Fatalf("Run returned %v after the context ended; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return when the context ended")
	}
}
