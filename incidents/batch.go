package incidents

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Answer builds the answer a sender gets for a stored request, from what
// each of its events did: the HTTP status and the body. The receiver owns it
// (each sender's dialect answers in its own shape); storage calls it inside
// the transaction so that the journal holds exactly what was sent.
type Answer func(results []IngestResult) (status int, body []byte, err error)

// AlertOutcome is what one alert of a request did, as the journal and the
// answer list it (a request of Alertmanager or Grafana carries several).
type AlertOutcome struct {
	Key      string   `json:"dedup_key,omitempty"`
	Title    string   `json:"title,omitempty"`
	Asked    Action   `json:"asked"`
	Outcome  Outcome  `json:"action"`
	Incident int64    `json:"incident,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Record fills in req's answer from what its events did, inside the store's
// transaction: the outcome, the first incident, the warnings (own — the
// request's own — then each event's), each alert's outcome for a request
// that can carry several, and the status and body answer makes (nil: SPEC
// §2's answer to one event). Both stores call it, so the journal holds the
// same thing whichever keeps it.
func Record(req *Request, own []string, evs []Event, results []IngestResult, answer Answer) error {
	req.Incident = 0
	warnings := own
	for _, res := range results {
		warnings = append(warnings[:len(warnings):len(warnings)], res.Warnings...)
		if req.Incident == 0 && res.Incident != nil {
			req.Incident = res.Incident.ID
		}
	}
	req.Outcome, req.Warnings = Summary(results), warnings
	if len(req.Warnings) == 0 {
		req.Warnings = nil
	}
	if len(evs) > 1 || req.Kind == KindAlertmanager || req.Kind == KindGrafana {
		req.Alerts = Outcomes(evs, results)
	}
	var err error
	if answer == nil {
		req.Status = 200
		req.Response, err = results[0].MarshalJSON()
	} else {
		req.Status, req.Response, err = answer(results)
	}
	return err
}

// Outcomes pairs each event with its result.
func Outcomes(evs []Event, results []IngestResult) []AlertOutcome {
	out := make([]AlertOutcome, 0, len(results))
	for i, r := range results {
		ev := evs[i]
		a := AlertOutcome{Key: ev.Key, Title: ev.Title, Asked: ev.Action, Outcome: r.Outcome, Warnings: r.Warnings}
		if r.Incident != nil {
			a.Incident = r.Incident.ID
		}
		out = append(out, a)
	}
	return out
}

// Summary is one outcome for a request: its events' when they agree,
// Mixed when they differ, Ignored when there were none.
func Summary(results []IngestResult) Outcome {
	if len(results) == 0 {
		return Ignored
	}
	o := results[0].Outcome
	for _, r := range results[1:] {
		if r.Outcome != o {
			return Mixed
		}
	}
	return o
}

// Tallied says in words what a request's events did: "2 created, 1 resolved".
func Tallied(results []IngestResult) string {
	order := []Outcome{Created, Folded, ResolvedBy, AckedBy, Ignored}
	n := map[Outcome]int{}
	for _, r := range results {
		n[r.Outcome]++
	}
	var parts []string
	for _, o := range order {
		if n[o] > 0 {
			parts = append(parts, strconv.Itoa(n[o])+" "+string(o))
		}
	}
	return strings.Join(parts, ", ")
}

// Chaos makes an integration answer a share of its requests with an error
// status, or late, without storing them: a person building an integration
// sees how the sender retries. The zero value is off.
type Chaos struct {
	Status int           // answer this status (0: answer normally, after Delay)
	Share  float64       // of requests, 0 < Share <= 1
	Delay  time.Duration // wait this long before answering
}

// On reports whether chaos is set.
func (c Chaos) On() bool { return c.Share > 0 && (c.Status != 0 || c.Delay > 0) }

// String writes chaos as ParseChaos reads it; "off" when off.
func (c Chaos) String() string {
	if !c.On() {
		return "off"
	}
	var parts []string
	if c.Status != 0 {
		parts = append(parts, "status="+strconv.Itoa(c.Status))
	}
	parts = append(parts, "share="+strconv.FormatFloat(c.Share, 'f', -1, 64))
	if c.Delay > 0 {
		parts = append(parts, "delay="+c.Delay.String())
	}
	return strings.Join(parts, ",")
}

// ParseChaos reads "status=503,share=0.3,delay=2s" (any of them; share
// defaults to 1) or "off".
func ParseChaos(s string) (Chaos, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") || strings.EqualFold(s, "none") {
		return Chaos{}, nil
	}
	c := Chaos{Share: 1}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Chaos{}, Errorf(EINVALID, "chaos %q: %q is not name=value; write e.g. status=503,share=0.3,delay=2s", s, part)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "status":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 400 || n > 599 {
				return Chaos{}, Errorf(EINVALID, "chaos status %q: give an HTTP error status from 400 to 599", v)
			}
			c.Status = n
		case "share":
			f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, "%")), 64)
			if strings.HasSuffix(v, "%") {
				f /= 100
			}
			if err != nil || f <= 0 || f > 1 {
				return Chaos{}, Errorf(EINVALID, "chaos share %q: give a share of requests above 0 and at most 1 (0.3 or 30%%)", v)
			}
			c.Share = f
		case "delay":
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < 0 || d > 5*time.Minute {
				return Chaos{}, Errorf(EINVALID, "chaos delay %q: give a duration such as 2s, at most 5m", v)
			}
			c.Delay = d
		default:
			return Chaos{}, Errorf(EINVALID, "chaos %q: %q is not one of status, share, delay", s, k)
		}
	}
	if !c.On() {
		return Chaos{}, Errorf(EINVALID, "chaos %q sets neither a status nor a delay; write e.g. status=503,share=0.3", s)
	}
	return c, nil
}

// Describe is chaos for a person: "503 to 30% of requests, 2s late".
func (c Chaos) Describe() string {
	if !c.On() {
		return "off"
	}
	s := strconv.FormatFloat(c.Share*100, 'f', -1, 64) + "% of requests"
	if c.Status != 0 {
		s = fmt.Sprintf("%d to %s", c.Status, s)
	} else {
		s = "delays " + s
	}
	if c.Delay > 0 {
		s += ", " + c.Delay.String() + " late"
	}
	return s
}
