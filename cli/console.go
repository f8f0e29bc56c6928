package cli

import (
	"context"
	"fmt"
	"net/http"

	"klaxon/tui"

	"golang.org/x/sync/errgroup"
)

// consoleOptions are the console's options for this app, in this process.
func (a *App) consoleOptions() tui.Options {
	return tui.Options{
		WebhookURL:    a.WebhookURL(),
		Bell:          !a.Config.NoBell,
		DesktopNotify: a.Config.DesktopNotify,
		Replay:        replayFunc(serviceBackend{Service: a.Service, base: a.BaseURL}, a.sender()),
	}
}

// sender is the HTTP client the console replays requests with: it trusts
// the certificate this klaxon serves.
func (a *App) sender() *http.Client {
	hc, _ := senderFor(a.Config) // the server has read the same file already
	return hc
}

// runConsole runs the app in the background and the console in the
// foreground; quitting the console stops the app gracefully, and an app
// that fails ends the console. Without a terminal it prints where to send
// webhooks and runs until stopped.
func runConsole(ctx context.Context, app *App, e Env) error {
	if !e.Interactive {
		printWelcome(e.Stdout, app)
		return app.Run(ctx)
	}
	running, stop := context.WithCancel(ctx)
	defer stop()
	var g errgroup.Group
	g.Go(func() error {
		defer stop()
		if err := app.Run(running); err != nil && ctx.Err() == nil {
			return err
		}
		return nil
	})
	g.Go(func() error {
		defer stop()
		if err := tui.Run(running, app.Service, app.consoleOptions()); err != nil {
			return fmt.Errorf("console: %w", err)
		}
		return nil
	})
	return g.Wait()
}
