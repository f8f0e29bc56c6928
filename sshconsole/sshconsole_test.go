package sshconsole

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"klaxon/incidents"
	"klaxon/internal/testkit"
	"klaxon/tui"
)

func newKey(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestConsoleOverSSH(t *testing.T) {
	dir := t.TempDir()
	_, svc, integ := testkit.Service(t, "default")
	svc.Ingest(context.Background(), integ, incidents.Event{Key: "over ssh", Title: "over ssh", Action: incidents.Trigger, Severity: incidents.Sev1},
		&incidents.Request{At: time.Now(), Method: "POST", Path: "/default/push-events"})

	allowed, stranger := newKey(t), newKey(t)
	keys := filepath.Join(dir, "authorized_keys")
	os.WriteFile(keys, gossh.MarshalAuthorizedKey(allowed.PublicKey()), 0o600)
	srv, err := New(svc, Options{Addr: "127.0.0.1:0", HostKeyPath: filepath.Join(dir, "host_key"), AuthorizedKeys: keys,
		Console: tui.Options{WebhookURL: "http://x/t/push-events"}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	dial := func(key gossh.Signer) (*gossh.Client, error) {
		return gossh.Dial("tcp", l.Addr().String(), &gossh.ClientConfig{
			User: "oncall", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
			HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
		})
	}
	if c, err := dial(stranger); err == nil {
		c.Close()
		t.Fatal("a key not in authorized_keys got in")
	}
	client, err := dial(allowed)
	if err != nil {
		t.Fatalf("authorized key: %v", err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	sess.Stdout = &out
	stdin, _ := sess.StdinPipe()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	answered := false
	for !strings.Contains(out.String(), "over ssh") && time.Now().Before(deadline) {
		if !answered && strings.Contains(out.String(), "\x1b]11;?") {
			// Answer the background-colour and device-attribute queries as a terminal would.
			stdin.Write([]byte("\x1b]11;rgb:0000/0000/0000\x07\x1b[?62;22c"))
			answered = true
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "over ssh") {
		t.Fatalf("the console did not show the incident over SSH:\n%q", out.String())
	}
	// A window change reaches this session's console.
	sess.WindowChange(30, 100)
	stdin.Write([]byte("q"))
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("q did not end the SSH session")
	}
}
