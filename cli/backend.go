package cli

import (
	"context"
	"errors"

	"klaxon/incidents"
	"klaxon/receiver"
	"klaxon/remote"
)

// backend is what the commands need from a klaxon: the running one over its
// API (*remote.Client) or, when none answers, the data directory itself
// (*incidents.Service through serviceBackend).
type backend interface {
	ListIncidents(ctx context.Context, f incidents.Filter) (incidents.Page[*incidents.Incident], error)
	Incident(ctx context.Context, id int64) (*incidents.Incident, error)
	Act(ctx context.Context, id int64, a incidents.PersonAction) (*incidents.Incident, error)
	Request(ctx context.Context, id int64) (*incidents.Request, error)
	Integrations(ctx context.Context) ([]remote.Integration, error)
	CreateIntegration(ctx context.Context, name, service, escalation string, kind incidents.Kind) (*remote.Integration, error)
	SetTimers(ctx context.Context, name string, t incidents.Timers) error
}

// serviceBackend is the data directory opened directly, with webhook URLs
// made from the --listen address.
type serviceBackend struct {
	*incidents.Service
	base string
}

func (s serviceBackend) Integrations(ctx context.Context) ([]remote.Integration, error) {
	all, err := s.Service.Integrations(ctx)
	out := make([]remote.Integration, 0, len(all))
	for _, in := range all {
		out = append(out, remote.Integration{Integration: *in, URL: receiver.WebhookURL(s.base, in.Token)})
	}
	return out, err
}

func (s serviceBackend) CreateIntegration(ctx context.Context, name, service, escalation string, kind incidents.Kind) (*remote.Integration, error) {
	in, err := s.Service.CreateIntegration(ctx, name, service, escalation, kind)
	if err != nil {
		return nil, err
	}
	return &remote.Integration{Integration: *in, URL: receiver.WebhookURL(s.base, in.Token)}, nil
}

// withBackend runs fn against the klaxon at --listen, or against the data
// directory when nothing answers there.
func withBackend(ctx context.Context, c Config, fn func(b backend) error) error {
	client, err := newClient(c, apiBase(c))
	if err != nil {
		return err
	}
	err = fn(client)
	if !errors.Is(err, remote.ErrNotRunning) {
		return err
	}
	return withStore(ctx, c, func(svc *incidents.Service) error {
		return fn(serviceBackend{Service: svc, base: apiBase(c)})
	})
}
