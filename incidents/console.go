package incidents

import "context"

// The console's header and tabs show counts that must stay cheap with
// 100,000 incidents; a Store may offer these (storage.DB does).

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

type consoleCounter interface {
	TallyIncidents(ctx context.Context) (Tally, error)
	CountSuppressed(ctx context.Context) (int, error)
	CountRequests(ctx context.Context) (int, error)
}

func (s *Service) consoleCounter() (consoleCounter, error) {
	c, ok := s.store.(consoleCounter)
	if !ok {
		return nil, Errorf(EINTERNAL, "this store cannot count for the console")
	}
	return c, nil
}

// TallyIncidents counts open incidents by severity and resolved ones.
func (s *Service) TallyIncidents(ctx context.Context) (Tally, error) {
	c, err := s.consoleCounter()
	if err != nil {
		return Tally{}, err
	}
	return c.TallyIncidents(ctx)
}

// CountSuppressed counts the stored suppressed events.
func (s *Service) CountSuppressed(ctx context.Context) (int, error) {
	c, err := s.consoleCounter()
	if err != nil {
		return 0, err
	}
	return c.CountSuppressed(ctx)
}

// CountRequests counts the request journal's entries.
func (s *Service) CountRequests(ctx context.Context) (int, error) {
	c, err := s.consoleCounter()
	if err != nil {
		return 0, err
	}
	return c.CountRequests(ctx)
}
