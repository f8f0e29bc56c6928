package cli

import (
	"context"
	"fmt"
	"sync"

	"klaxon/tui"
)

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
	consoleErr := tui.Run(serveCtx, app.Service, tui.Options{
		WebhookURL: app.WebhookURL(),
		Bell:       !app.Config.NoBell,
	})
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
