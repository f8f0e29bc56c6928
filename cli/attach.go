package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"klaxon/remote"
	"klaxon/tui"
)

// runAttach opens the console against a klaxon running elsewhere, over its
// API and event stream.
func runAttach(ctx context.Context, args []string, e Env) error {
	var c Config
	fs := newFlagSet("klaxon attach", "klaxon attach [URL]",
		"Opens the console against a running klaxon (such as klaxon serve on an ops box) over its API. URL defaults to the --listen address; the API token is KLAXON_API_TOKEN or the api-token file in --data-dir. It reconnects by itself and says when it is disconnected.", e.Stderr)
	commonFlags(fs, &c)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError(fs, "attach takes at most one URL")
	}
	base := apiBase(c)
	if len(pos) == 1 {
		base = strings.TrimRight(pos[0], "/")
		if !strings.Contains(base, "://") {
			base = "http://" + base
		}
	}
	if readAPIToken(c) == "" {
		return fmt.Errorf("no API token: set KLAXON_API_TOKEN to the token of the klaxon at %s (its data directory's api-token file)", base)
	}
	client, err := newClient(c, base)
	if err != nil {
		return err
	}
	hc, err := senderFor(c)
	if err != nil {
		return err
	}
	return attach(ctx, client, hc, e)
}

// attach checks that the klaxon answers, then runs the console over it.
func attach(ctx context.Context, client *remote.Client, hc *http.Client, e Env) error {
	list, err := client.Integrations(ctx)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", client.Base(), err)
	}
	url := ""
	for _, in := range list {
		if url == "" || in.Name == "default" {
			url = in.URL
		}
	}
	if !e.Interactive {
		return errors.New("attach needs a terminal")
	}
	return tui.Run(ctx, client, tui.Options{WebhookURL: url, Bell: true, Replay: replayFunc(client, hc)})
}

// offerAttach asks whether to attach to the klaxon that holds the data
// directory and answers at --listen. It returns false when the person says no.
func offerAttach(in io.Reader, out io.Writer, base string) bool {
	fmt.Fprintf(out, "klaxon is already running at %s with this data directory.\nAttach this console to it? [Y/n] ", base)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "" || answer == "y" || answer == "yes"
}
