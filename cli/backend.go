package cli

import (
	"context"
	"errors"

	"klaxon/incidents"
	"klaxon/receiver"
	"klaxon/remote"
	"klaxon/senders"
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
	SetChaos(ctx context.Context, name string, c incidents.Chaos) error
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
		out = append(out, asShown(in, s.base))
	}
	return out, err
}

func (s serviceBackend) CreateIntegration(ctx context.Context, name, service, escalation string, kind incidents.Kind) (*remote.Integration, error) {
	in, err := s.Service.CreateIntegration(ctx, name, service, escalation, kind)
	if err != nil {
		return nil, err
	}
	shown := asShown(in, s.base)
	return &shown, nil
}

// asShown is in as the API shows it, for a klaxon reached at base: the
// local backend's integrations read the same as a running klaxon's.
func asShown(in *incidents.Integration, base string) remote.Integration {
	return remote.Integration{
		Integration: *in, URL: receiver.WebhookURL(base, in.Token), DedupKey: in.Kind.KeyName(),
		Setup: senders.Setup(senders.Target{Base: base, Token: in.Token, Kind: in.Kind, Name: in.Name}),
	}
}

// withSetup fills what a klaxon too old to say them leaves out of in: its
// dedup key and the setup block, made from its webhook URL.
func withSetup(in remote.Integration) remote.Integration {
	if in.DedupKey == "" {
		in.DedupKey = in.Kind.KeyName()
	}
	if in.Setup == "" {
		if base, token, err := senders.ParseWebhookURL(in.URL); err == nil {
			in.Setup = senders.Setup(senders.Target{Base: base, Token: token, Kind: in.Kind, Name: in.Name})
		}
	}
	return in
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
