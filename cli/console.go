package cli

import (
	"context"
	"fmt"
	"sync"

	"klaxon/incidents"
	"klaxon/tui"
)

// consoleOptions are the console's options for this app, in this process.
func (a *App) consoleOptions() tui.Options {
	return tui.Options{
		WebhookURL:    a.WebhookURL(),
		Bell:          !a.Config.NoBell,
		DesktopNotify: a.Config.DesktopNotify,
		Alerts:        a.alerts,
		Replay:        replayFunc(serviceBackend{Service: a.Service, base: a.BaseURL}),
	}
}

// runConsole runs the receiver in the background and the console in the
// foreground; quitting the console stops the receiver gracefully. Without a
// terminal it prints where to send webhooks and serves until stopped.
func runConsole(ctx context.Context, app *App, e Env) error {
	if !e.Interactive {
		printWelcome(e.Stdout, app)
		return app.Serve(ctx)
	}
	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	alerts := make(chan tui.Alert, 64)
	app.Alert = func(in *incidents.Incident, reason string) {
		select {
		case alerts <- tui.Alert{Incident: in, Reason: reason}:
		default: // the console is behind; it rings for the next one
		}
	}
	app.alerts = alerts
	var (
		wg       sync.WaitGroup
		serveErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveErr = app.Serve(serveCtx)
		stopServing()
	}()
	consoleErr := tui.Run(serveCtx, app.Service, app.consoleOptions())
	stopServing()
	wg.Wait()
	if consoleErr != nil {
		return fmt.Errorf("console: %w", consoleErr)
	}
	if serveErr != nil && ctx.Err() == nil {
		return serveErr
	}
	return nil
}
