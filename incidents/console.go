package incidents

import "context"

// journalCounter is what a Store may offer to count the suppressed events
// and the request journal without reading them (storage.DB does).
type journalCounter interface {
	CountSuppressed(ctx context.Context) (int, error)
	CountRequests(ctx context.Context) (int, error)
}

// CountSuppressed counts the suppressed events, for the console's tab.
func (s *Service) CountSuppressed(ctx context.Context) (int, error) {
	c, ok := s.store.(journalCounter)
	if !ok {
		return 0, Errorf(EINTERNAL, "this store cannot count suppressed events")
	}
	return c.CountSuppressed(ctx)
}

// CountRequests counts the request journal's entries, for the console's tab.
func (s *Service) CountRequests(ctx context.Context) (int, error) {
	c, ok := s.store.(journalCounter)
	if !ok {
		return 0, Errorf(EINTERNAL, "this store cannot count the request journal")
	}
	return c.CountRequests(ctx)
}
