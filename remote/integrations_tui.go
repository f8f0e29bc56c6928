package remote

import (
	"context"

	"klaxon/incidents"
)

// ListIntegrations is Integrations in the shape the console (tui) reads
// from a Source: plain integrations, with their kinds and chaos settings.
// The console makes their URLs from the webhook URL it shows, as every
// integration of a klaxon shares its address. (Integrations keeps the
// API's shape for the command line.)
func (c *Client) ListIntegrations(ctx context.Context) ([]*incidents.Integration, error) {
	list, err := c.Integrations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*incidents.Integration, len(list))
	for i := range list {
		in := list[i].Integration
		out[i] = &in
	}
	return out, nil
}
