package incidents

import "context"

// The console's header and tabs show counts that must stay cheap with
// 100,000 incidents; every Store keeps them (Store's counting methods).

// Tally is how many incidents there are, by status and severity.
type Tally struct {
	Open     map[Severity]int // open incidents by severity; NoSeverity counts those without
	Resolved int
}

// OpenTotal is the number of open incidents.
func (t Tally) OpenTotal() int {
	n := 0
	for _, c := range t.Open {
		n += c
	}
	return n
}

// TallyIncidents counts open incidents by severity and resolved ones.
func (s *Service) TallyIncidents(ctx context.Context) (Tally, error) {
	return s.store.TallyIncidents(ctx)
}

// CountSuppressed counts the stored suppressed events.
func (s *Service) CountSuppressed(ctx context.Context) (int, error) {
	return s.store.CountSuppressed(ctx)
}

// CountRequests counts the request journal's entries.
func (s *Service) CountRequests(ctx context.Context) (int, error) {
	return s.store.CountRequests(ctx)
}
