package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSendURLFromAFile: klaxon send --url-file FILE (or - for stdin) reads
// the webhook URL, so its token is never on the command line where ps shows
// it, and errors never print the token either.
func TestSendURLFromAFile(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	startServe(t, addr, dir)
	_, list, _ := run(t, "integrations", "--listen", addr, "--data-dir", dir)
	url := urlRE.FindString(list)
	_, token, _ := strings.Cut(strings.TrimSuffix(url, "/push-events"), addr+"/")
	file := filepath.Join(t.TempDir(), "webhook")
	if err := os.WriteFile(file, []byte(url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	if code, out, errOut := run(t, "send", "--url-file", file, "--title", "from a file"); code != 0 || !strings.Contains(out, `"action":"created"`) {
		t.Fatalf("--url-file: %d %q %q", code, out, errOut)
	}
	var out, errb syncBuffer
	code := Run(context.Background(), []string{"send", "--url-file", "-", "--title", "from a file", "--resolve"},
		Env{Stdin: strings.NewReader("  " + url + "\r\n"), Stdout: &out, Stderr: &errb})
	if code != 0 || !strings.Contains(out.String(), `"action":"resolved"`) {
		t.Fatalf("--url-file -: %d %q %q", code, out.String(), errb.String())
	}
	if code, out, errOut := run(t, "send", "--kind", "alertmanager", "--url-file", file, "--title", "as alertmanager"); code != 0 || !strings.Contains(out, "200") {
		t.Fatalf("--kind --url-file: %d %q %q", code, out, errOut)
	}

	if code, _, errOut := run(t, "send", url, "--url-file", file, "--title", "x"); code != 2 || !strings.Contains(errOut, "--url-file") {
		t.Fatalf("a URL and --url-file: %d %q", code, errOut)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	if code, _, errOut := run(t, "send", "--url-file", empty, "--title", "x"); code != 1 || !strings.Contains(errOut, empty) {
		t.Fatalf("an empty file: %d %q", code, errOut)
	}
	two := filepath.Join(t.TempDir(), "two")
	os.WriteFile(two, []byte(url+"\n"+url+"\n"), 0o600)
	if code, _, errOut := run(t, "send", "--url-file", two, "--title", "x"); code != 1 || strings.Contains(errOut, token) {
		t.Fatalf("two URLs: %d %q", code, errOut)
	}
	if code, _, errOut := run(t, "send", "--url-file", filepath.Join(dir, "nope"), "--title", "x"); code != 1 || !strings.Contains(errOut, "nope") {
		t.Fatalf("a missing file: %d %q", code, errOut)
	}
	// Nothing listens here: the error names the address, not the token.
	gone := filepath.Join(t.TempDir(), "gone")
	os.WriteFile(gone, []byte(strings.Replace(url, addr, freeAddr(t), 1)), 0o600)
	if code, _, errOut := run(t, "send", "--url-file", gone, "--title", "x"); code != 1 || strings.Contains(errOut, token) || !strings.Contains(errOut, "push-events") {
		t.Fatalf("an unreachable URL: %d %q (token %s)", code, errOut, token)
	}
}
