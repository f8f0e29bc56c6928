package tui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

// alarm is what rings: a new sev1 and a re-alert ring the terminal bell
// (Options.Bell) and send a desktop notification (Options.DesktopNotify),
// in the frames of the next 300 ms, and mark the incident's row ! until a
// key is pressed with it under the cursor or its page is opened.
type alarm struct {
	c         *common
	fresh     map[int64]bool // incidents announced and not seen yet
	maxSeenID int64          // the highest incident ID heard of or read

	bell  bool     // this frame rings the terminal bell
	notes []string // desktop notifications this frame carries (OSC 9)
	seq   int
}

func newAlarm(c *common) *alarm { return &alarm{c: c, fresh: map[int64]bool{}} }

// heard announces what a message of changes says rang: incidents created
// as sev1 since the console started, and re-alerts (not marked when their
// page is the one on screen, showing).
func (a *alarm) heard(msg changesMsg, showing int64) tea.Cmd {
	var news []string
	for _, in := range msg.created {
		if in.ID <= a.maxSeenID || in.FirstSeen.Before(a.c.started) || in.Severity != incidents.Sev1 {
			continue
		}
		a.fresh[in.ID] = true
		news = append(news, notification(in, false))
	}
	for id := range msg.incidents {
		a.maxSeenID = max(a.maxSeenID, id)
	}
	for _, in := range msg.realerts {
		if in.ID != showing {
			a.fresh[in.ID] = true
		}
		news = append(news, notification(in, true))
	}
	return a.ring(news)
}

// missed announces, in rows read for the Open list, new sev1 incidents that
// no change announced: they arrived while the console was not hearing
// changes (an attached console's stream was down, or a resync replaced
// them). They ring as if heard live.
func (a *alarm) missed(pages []chunk[*incidents.Incident]) tea.Cmd {
	var news []string
	top := a.maxSeenID
	for _, c := range pages {
		for _, in := range c.items {
			top = max(top, in.ID)
			if in.ID <= a.maxSeenID || in.Severity != incidents.Sev1 || in.Status != incidents.Triggered || in.FirstSeen.Before(a.c.started) {
				continue
			}
			a.fresh[in.ID] = true
			news = append(news, notification(in, false))
		}
	}
	a.maxSeenID = top
	return a.ring(news)
}

// seen ends the ! of incident id.
func (a *alarm) seen(id int64) { delete(a.fresh, id) }

// ring carries texts in the frames of the next 300 ms: the renderer writes
// a changed line once, so the BEL and the OSC 9 reach the terminal once.
func (a *alarm) ring(texts []string) tea.Cmd {
	if len(texts) == 0 {
		return nil
	}
	var notes []string
	if a.c.opts.DesktopNotify {
		notes = texts
		if len(notes) > maxNotes {
			notes = append(notes[:maxNotes:maxNotes], "klaxon: "+plural(len(texts)-maxNotes, "more alert", "more alerts"))
		}
	}
	if !a.c.opts.Bell && len(notes) == 0 {
		return nil
	}
	a.seq++
	a.bell, a.notes = a.c.opts.Bell, notes
	n := a.seq
	return tea.Tick(300*time.Millisecond, func(time.Time) tea.Msg { return bellDoneMsg{n} })
}

// maxNotes is how many desktop notifications one burst sends before it
// sums up the rest in one: a storm of sev1s should not bury the desktop.
const maxNotes = 3

// done ends the frames that carry the bell.
func (a *alarm) done(msg bellDoneMsg) {
	if msg.n == a.seq {
		a.bell, a.notes = false, nil
	}
}

// frame is what the frame carries besides the screen: BEL, and the
// desktop notifications (OSC 9) made inert already (see notification).
// The renderer writes a line only when it changed, so a ring that comes
// while the last one's frames are still drawn must change the line to be
// heard: every other ring puts an empty SGR before its BEL.
func (a *alarm) frame() string {
	out := ""
	if a.bell {
		if a.seq%2 == 0 {
			out += "\x1b[m"
		}
		out += "\a"
	}
	for _, n := range a.notes {
		out += "\x1b]9;" + n + "\a"
	}
	return out
}
