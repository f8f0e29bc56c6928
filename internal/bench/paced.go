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
// receiver at a rate the loopback load generator cannot reach beside it,
// and times each event from when it fell due, so a stall shows in the
// latency of every event that fell due during it.
type Paced struct {
	Pattern  Pattern
	Format   Format  // the bodies' dialect
	Titles   int     // distinct titles for RepeatTitles; default 1000
	Workers  int     // goroutines sending; default 1000
	Rate     float64 // events a second, in all
	Warmup   time.Duration
	Duration time.Duration
	Nonce    string
	// Send delivers one event's JSON body and returns the HTTP status it
	// was answered with.
	Send func(ctx context.Context, body []byte) (status int, err error)
	// Window, as in Load, is told when the counted window opens and closes.
	Window func(end bool)
}

// pacedGrace is how long, after the window, the events sent in it may take
// to be answered; what is not answered by then counts as an error.
const pacedGrace = 30 * time.Second

// DrivePaced runs p. A latency is from the moment an event fell due to its
// answer, so a receiver that falls behind shows it even though the workers
// then send late. Events due in the window are counted however late they
// are answered (up to pacedGrace); those that fell due in the window but
// that no worker had sent by its end are counted in Result.Unsent.
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
	bodies := Load{Pattern: p.Pattern, Format: p.Format, Titles: p.Titles, Connections: p.Workers, Nonce: p.Nonce}
	interval := time.Duration(float64(time.Second) / p.Rate)
	if interval <= 0 {
		interval = 1
	}
	var (
		next, errs, sent atomic.Int64
		firstErr         sync.Once
		firstErrText     string
		wg               sync.WaitGroup
		lat              = make([][]uint32, p.Workers)
	)
	start := time.Now()
	measureFrom := start.Add(p.Warmup)
	measureTo := measureFrom.Add(p.Duration)
	// The schedule ends with the window; the sends may outlive it.
	schedule, stopSchedule := context.WithDeadline(ctx, measureTo)
	defer stopSchedule()
	sendCtx, stopSends := context.WithDeadline(ctx, measureTo.Add(pacedGrace))
	defer stopSends()
	windowDone := watchWindow(schedule, measureFrom, p.Window)
	for w := range p.Workers {
		wg.Go(func() {
			var body []byte
			for seq := 0; ; seq++ {
				due := start.Add(time.Duration(next.Add(1)-1) * interval)
				if !due.Before(measureTo) {
					return
				}
				if wait := time.Until(due); wait > 0 {
					t := time.NewTimer(wait)
					select {
					case <-schedule.Done():
						t.Stop()
						return
					case <-t.C:
					}
				}
				if !time.Now().Before(measureTo) {
					return // fell due in the window but never sent: Unsent
				}
				counted := !due.Before(measureFrom)
				if counted {
					sent.Add(1)
				}
				body = bodies.body(body[:0], w, seq)
				status, err := p.Send(sendCtx, body)
				done := time.Now()
				if !counted {
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
	<-schedule.Done() // the window ends at measureTo, even if the last event fell due before
	<-windowDone
	r := summarize(lat, errs.Load(), firstErrText, measureTo.Sub(measureFrom))
	// The events due in [measureFrom, measureTo): indices from the first at
	// or after the window's start to the last before its end.
	first := (p.Warmup + interval - 1) / interval
	last := (p.Warmup + p.Duration + interval - 1) / interval
	r.Unsent = max(0, int64(last-first)-sent.Load())
	if r.Requests == 0 && r.Errors == 0 {
		return r, errors.New("bench: no event was answered")
	}
	return r, ctx.Err()
}
