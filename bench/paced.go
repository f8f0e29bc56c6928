package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Paced is an open load: events fall due at a fixed rate and Workers
// goroutines send each one when it is due, through Send, however slowly the
// earlier ones are answered (as senders on a network do). It drives a
// receiver at a rate the loopback load generator cannot reach beside it.
type Paced struct {
	Pattern  Pattern
	Titles   int     // distinct titles for RepeatTitles; default 1000
	Workers  int     // goroutines sending; default 1000
	Rate     float64 // events a second, in all
	Warmup   time.Duration
	Duration time.Duration
	Nonce    string
	// Send delivers one event's JSON body and returns the HTTP status it
	// was answered with.
	Send func(ctx context.Context, body []byte) (status int, err error)
}

// DrivePaced runs p. A latency is from the moment an event fell due to its
// answer, so a receiver that falls behind shows it even though the workers
// then send late.
func DrivePaced(ctx context.Context, p Paced) (Result, error) {
	if p.Rate <= 0 || p.Send == nil {
		return Result{}, errors.New("bench: a paced load needs a rate and a way to send")
	}
	if p.Workers <= 0 {
		p.Workers = 1000
	}
	if p.Titles <= 0 {
		p.Titles = 1000
	}
	bodies := Load{Pattern: p.Pattern, Titles: p.Titles, Connections: p.Workers, Nonce: p.Nonce}
	interval := time.Duration(float64(time.Second) / p.Rate)
	var (
		next, errs   atomic.Int64
		firstErr     sync.Once
		firstErrText string
		wg           sync.WaitGroup
		lat          = make([][]uint32, p.Workers)
	)
	start := time.Now()
	measureFrom := start.Add(p.Warmup)
	measureTo := measureFrom.Add(p.Duration)
	ctx, cancel := context.WithDeadline(ctx, measureTo)
	defer cancel()
	for w := range p.Workers {
		wg.Go(func() {
			var body []byte
			for seq := 0; ; seq++ {
				due := start.Add(time.Duration(next.Add(1)-1) * interval)
				if !due.Before(measureTo) {
					return
				}
				if wait := time.Until(due); wait > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(wait):
					}
				}
				body = bodies.body(body[:0], w, seq)
				status, err := p.Send(ctx, body)
				done := time.Now()
				if ctx.Err() != nil && done.After(measureTo) {
					return
				}
				if due.Before(measureFrom) {
					continue
				}
				if err == nil && status != 200 {
					err = fmt.Errorf("answered %d", status)
				}
				if err != nil {
					errs.Add(1)
					firstErr.Do(func() { firstErrText = err.Error() })
					continue
				}
				lat[w] = append(lat[w], uint32(min(done.Sub(due).Microseconds(), 1<<32-1)))
			}
		})
	}
	wg.Wait()
	r := summarize(lat, errs.Load(), firstErrText, measureTo.Sub(measureFrom))
	if r.Requests == 0 && r.Errors == 0 {
		return r, errors.New("bench: no event was answered")
	}
	return r, nil
}
