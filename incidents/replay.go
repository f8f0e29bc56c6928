package incidents

import "context"

type requestGetter interface {
	Request(ctx context.Context, id int64) (*Request, error)
}

// Request returns one journal entry.
func (s *Service) Request(ctx context.Context, id int64) (*Request, error) {
	g, ok := s.store.(requestGetter)
	if !ok {
		return nil, Errorf(EINTERNAL, "this store cannot read single journal entries")
	}
	return g.Request(ctx, id)
}
