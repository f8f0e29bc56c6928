package cli

import (
	"context"
	"fmt"
)

// runConsole runs the receiver with the console in the foreground.
func runConsole(ctx context.Context, app *App, e Env) error {
	printWelcome(e.Stdout, app)
	if err := app.Serve(ctx); err != nil {
		return err
	}
	fmt.Fprintln(e.Stdout, "klaxon stopped")
	return nil
}
