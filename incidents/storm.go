package incidents

import "time"

// Storms, as Spike has them: a key that triggers StormThreshold times within
// StormWindow storms until StormWindow after the latest such repeat. While it
// storms its repeats still count exactly, but only every StormSample-th is
// recorded on the timeline (with its raw payload).
const (
	StormThreshold = 20
	StormWindow    = 60 * time.Second
	StormSample    = 10
)

// Storm is an incident's repeat rate: the current window and when the storm,
// if any, ends.
type Storm struct {
	Start time.Time // the current window began
	Count int64     // repeats in the current window
	Until time.Time // storming until then (zero: never stormed)
}

// repeat counts one repeat at now.
func (s *Storm) repeat(now time.Time) {
	if now.Sub(s.Start) >= StormWindow || now.Before(s.Start) {
		s.Start, s.Count = now, 0
	}
	s.Count++
	if s.Count >= StormThreshold {
		s.Until = now.Add(StormWindow)
	}
}

// StormingAt reports whether the incident storms at now.
func (s Storm) StormingAt(now time.Time) bool { return s.Until.After(now) }
