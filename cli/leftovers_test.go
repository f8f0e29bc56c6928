package cli

import (
	"context"
	"strings"
	"testing"
)

// An inverted export range is an error, not an empty list; a filter on an
// integration that does not exist says so instead of "no open incidents".
func TestExportRangeAndUnknownIntegration(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	common := []string{"--listen", addr, "--data-dir", dir}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := OpenApp(ctx, Config{Listen: addr, DataDir: dir}, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	app.Run(ctx)
	app.Close()
	code, out, errOut := run(t, append([]string{"export", "--since", "1h", "--until", "2h"}, common...)...)
	if code == 0 || !strings.Contains(errOut, "inverted") {
		t.Fatalf("inverted range: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = run(t, append([]string{"incidents", "--integration", "nosuch"}, common...)...)
	if code == 0 || !strings.Contains(errOut, "no integration named") {
		t.Fatalf("unknown integration: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
