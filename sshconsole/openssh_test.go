package sshconsole

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/internal/testkit"
	"klaxon/tui"
)

// sshKey makes an ed25519 key pair with ssh-keygen and returns the private
// key's path, the public key's authorized_keys line and its fingerprint as
// ssh-keygen prints it.
func sshKey(t *testing.T, dir, name string) (path, pub, fingerprint string) {
	t.Helper()
	path = filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	b, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh-keygen", "-l", "-f", path+".pub").Output()
	if err != nil {
		t.Fatalf("ssh-keygen -l: %v", err)
	}
	return path, strings.TrimSpace(string(b)), strings.Fields(string(out))[1]
}

// openSSH runs the real OpenSSH client in a terminal of its own against
// addr. It reports whether the console opened (the incident's title was
// drawn), quitting it with q; either way it returns what ssh wrote to the
// terminal.
func openSSH(t *testing.T, addr, key string) (opened bool, output string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	master, tty, err := openPTY()
	if err != nil {
		t.Skip(err)
	}
	defer master.Close()
	cmd := exec.Command("ssh", "-F", "/dev/null",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "PreferredAuthentications=publickey", "-o", "ConnectTimeout=5",
		"-i", key, "-p", port, "oncall@127.0.0.1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = sessionLeader()
	if err := cmd.Start(); err != nil {
		tty.Close()
		t.Fatal(err)
	}
	tty.Close()
	var out lockedBuffer
	go io.Copy(&out, master) // ends when ssh has exited and the terminal closes
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(20 * time.Second)
	answered := false
	for {
		select {
		case <-done:
			time.Sleep(50 * time.Millisecond) // the last of its output
			return false, out.String()
		case <-deadline:
			cmd.Process.Kill()
			<-done
			t.Fatalf("ssh neither ended nor showed the console: %q", out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if !answered && strings.Contains(out.String(), "\x1b]11;?") {
			// Answer the background-colour and device-attribute queries as a terminal would.
			io.WriteString(master, "\x1b]11;rgb:0000/0000/0000\x07\x1b[?62;22c")
			answered = true
		}
		if strings.Contains(out.String(), "over ssh") {
			io.WriteString(master, "q")
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatal("q did not end the console")
			}
			return true, out.String()
		}
	}
}

// TestAuthorizedKeysOptionsWithOpenSSH drives the real ssh client at the
// console with keys whose authorized_keys lines carry options: from= is
// honoured as sshd does, and options klaxon cannot honour refuse the key,
// logged with its fingerprint and never its key material.
func TestAuthorizedKeysOptionsWithOpenSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no OpenSSH client")
	}
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("no ssh-keygen")
	}
	dir := t.TempDir()
	_, svc, integ := testkit.Service(t, "default")
	svc.Ingest(context.Background(), integ, incidents.Event{Key: "over ssh", Title: "over ssh", Action: incidents.Trigger, Severity: incidents.Sev1},
		&incidents.Request{At: time.Now(), Method: "POST", Path: "/default/push-events"})

	key, pub, fp := sshKey(t, dir, "oncall")
	strangerKey, _, strangerFP := sshKey(t, dir, "stranger")
	material := strings.Fields(pub)[1]
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, []byte(pub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	srv, err := New(svc, Options{Addr: "127.0.0.1:0", HostKeyPath: filepath.Join(dir, "host_key"), AuthorizedKeys: authorized,
		Console: tui.Options{WebhookURL: "http://x/t/push-events"}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	tests := []struct {
		name   string
		lines  string // authorized_keys; KEY stands for the key's line
		opened bool
		reason string // in the log when refused
	}{
		{"the issue's line", `from="10.9.9.9",no-pty,command="/bin/false" KEY`, false, `from=`},
		{"from another address", `from="10.9.9.9" KEY`, false, `does not allow 127.0.0.1`},
		{"from a matching CIDR", `from="10.0.0.0/8,127.0.0.0/8" KEY`, true, ""},
		{"from a matching wildcard", `from="127.0.0.?,192.168.*" KEY`, true, ""},
		{"from, negated", `from="!127.0.0.1,*" KEY`, false, `does not allow 127.0.0.1`},
		{"from, a pattern sshd refuses", `from="127.0.0.1/8" KEY`, false, `cannot be read`},
		{"a forced command", `command="/bin/false" KEY`, false, `command=`},
		{"no-pty", `no-pty KEY`, false, `no-pty`},
		{"restrict", `restrict KEY`, false, `no-pty`},
		{"restrict then pty", `restrict,pty,from="127.0.0.1" KEY`, true, ""},
		{"an unknown option", `frobnicate KEY`, false, `unknown option`},
		{"expired", `expiry-time="20200101" KEY`, false, `expiry-time`},
		{"a refused line, then one that lets it in", "from=\"10.9.9.9\" KEY\nno-port-forwarding,no-agent-forwarding,no-X11-forwarding KEY", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(authorized, []byte(strings.ReplaceAll(tt.lines, "KEY", pub)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			before := len(logs.String())
			opened, said := openSSH(t, l.Addr().String(), key)
			logged := logs.String()[before:]
			if opened != tt.opened {
				t.Fatalf("console opened = %v, want %v; ssh said %q; log:\n%s", opened, tt.opened, said, logged)
			}
			if opened {
				if !strings.Contains(logged, "ssh console opened") || !strings.Contains(logged, fp) {
					t.Fatalf("the log does not say which key opened the console:\n%s", logged)
				}
				return
			}
			if !strings.Contains(said, "Permission denied") {
				t.Fatalf("ssh said %q, want a refused key", said)
			}
			if !strings.Contains(logged, "ssh key refused") || !strings.Contains(logged, fp) || !strings.Contains(logged, tt.reason) {
				t.Fatalf("the log does not say the key %s was refused for %q:\n%s", fp, tt.reason, logged)
			}
		})
	}
	t.Run("a key not in the file", func(t *testing.T) {
		before := len(logs.String())
		if opened, _ := openSSH(t, l.Addr().String(), strangerKey); opened {
			t.Fatal("a stranger's key opened the console")
		}
		if logged := logs.String()[before:]; !strings.Contains(logged, "ssh key refused") || !strings.Contains(logged, strangerFP) ||
			!strings.Contains(logged, "not in") {
			t.Fatalf("the stranger's key is not logged as refused:\n%s", logged)
		}
	})
	t.Logf("the log:\n%s", logs.String())
	if strings.Contains(logs.String(), material) {
		t.Fatalf("the log holds key material:\n%s", logs.String())
	}
}
