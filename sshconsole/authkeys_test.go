package sshconsole

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func TestFromPatterns(t *testing.T) {
	tests := []struct {
		ip, patterns string
		want         bool
		err          bool
	}{
		{"127.0.0.1", "127.0.0.1", true, false},
		{"127.0.0.1", "10.9.9.9", false, false},
		{"127.0.0.1", "10.9.9.9,127.0.0.1", true, false},
		{"127.0.0.1", "127.0.0.0/8", true, false},
		{"10.1.2.3", "10.0.0.0/8", true, false},
		{"11.1.2.3", "10.0.0.0/8", false, false},
		{"192.168.1.77", "192.168.1.*", true, false},
		{"192.168.10.77", "192.168.1.?", false, false},
		{"192.168.1.7", "192.168.1.?", true, false},
		{"10.0.0.5", "*", true, false},
		{"10.0.0.5", "!10.0.0.5,*", false, false},
		{"10.0.0.5", "*,!10.0.0.5", false, false},
		{"10.0.0.6", "!10.0.0.5,*", true, false},
		{"10.0.0.5", "!10.0.0.0/24,10.0.0.5", false, false},
		{"10.0.0.5", "!10.0.0.*", false, false},
		{"10.0.0.5", "!192.168.0.0/16", false, false}, // a negation alone admits nobody
		{"2001:db8::1", "2001:db8::/32", true, false},
		{"2001:db8::1", "2001:db9::/32", false, false},
		{"2001:db8::1", "2001:db8::1", true, false},
		{"2001:db8::1", "2001:DB8::*", true, false}, // names and wildcards are matched lower-cased
		{"127.0.0.1", "::ffff:127.0.0.1", false, false},
		{"127.0.0.1", "localhost", false, false}, // no DNS, as with sshd's UseDNS no
		{"127.0.0.1", "10.0.0.1/8", false, true},
		{"127.0.0.1", "10.0.0.0/33", false, true},
		{"127.0.0.1", "127.0.0.1,", false, true},
		{"127.0.0.1", "!", false, true},
	}
	for _, tt := range tests {
		got, err := matchFrom(netip.MustParseAddr(tt.ip), tt.patterns)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("from=%q for %s: %v, %v; want %v, error %v", tt.patterns, tt.ip, got, err, tt.want, tt.err)
		}
		if tt.err && checkFrom(tt.patterns) == nil {
			t.Errorf("checkFrom(%q) saw no error", tt.patterns)
		}
	}
}

// skKey is a FIDO security key's public key (sk-ssh-ed25519@openssh.com).
func skKey(t *testing.T) gossh.PublicKey {
	t.Helper()
	k, err := gossh.ParsePublicKey(gossh.Marshal(struct {
		Name, Key, App string
	}{gossh.KeyAlgoSKED25519, strings.Repeat("k", 32), "ssh:"}))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAuthorizeOptions(t *testing.T) {
	key := newKey(t).PublicKey()
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(key)))
	other := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(newKey(t).PublicKey())))
	local := netip.MustParseAddr("127.0.0.1")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, file string
		remote     netip.Addr
		ok         bool
		reason     string
	}{
		{"plain", "KEY", local, true, ""},
		{"comments and blank lines", "# on-call\n\n  KEY comment here", local, true, ""},
		{"not listed", "OTHER", local, false, notListed},
		{"the issue's line", `from="10.9.9.9",no-pty,command="/bin/false" KEY`, local, false, `from="10.9.9.9" does not allow 127.0.0.1`},
		{"the issue's line from its address", `from="10.9.9.9",no-pty,command="/bin/false" KEY`, netip.MustParseAddr("10.9.9.9"), false, "command="},
		{"from, no address known", `from="*" KEY`, netip.Addr{}, false, "unknown"},
		{"an empty command", `command="" KEY`, local, true, ""},
		{"a command", `command="uptime" KEY`, local, false, "command="},
		{"command, quoted quote", `command="echo \"hi\"" KEY`, local, false, `echo \"hi\"`},
		{"no-pty", "no-pty KEY", local, false, "no-pty"},
		{"NO-PTY", "NO-PTY KEY", local, false, "no-pty"},
		{"restrict", "restrict KEY", local, false, "no-pty"},
		{"restrict,pty", "restrict,pty KEY", local, true, ""},
		{"pty,restrict", "pty,restrict KEY", local, false, "no-pty"},
		{"forwarding options", `no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc,permitopen="h:1",environment="A=b" KEY`, local, true, ""},
		{"unknown option", "frobnicate KEY", local, false, `unknown option "frobnicate"`},
		{"a flag with a value", `no-pty="yes" KEY`, local, false, "takes no value"},
		{"a value without quotes", `from=127.0.0.1 KEY`, local, false, "double quotes"},
		{"from twice", `from="127.0.0.1",from="*" KEY`, local, false, "twice"},
		{"not yet expired", `expiry-time="20260601120001Z" KEY`, local, true, ""},
		{"expired", `expiry-time="202606011200Z" KEY`, local, false, "expiry-time passed"},
		{"a bad expiry", `expiry-time="tomorrow" KEY`, local, false, "expiry-time="},
		{"cert-authority", `cert-authority KEY`, local, false, "cert-authority"},
		{"verify-required", `verify-required KEY`, local, false, "verify-required"},
		{"first line that admits decides", "from=\"10.0.0.0/8\" KEY\nno-pty KEY\nKEY", local, false, "line 2: no-pty"},
		{"a later line admits", "from=\"10.0.0.0/8\" KEY\nOTHER\nfrom=\"127.0.0.1\" KEY", local, true, ""},
		{"every line says why", "from=\"10.0.0.0/8\" KEY\nfrob KEY", local, false, `line 1: from="10.0.0.0/8" does not allow 127.0.0.1; line 2: unknown option "frob"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := strings.NewReplacer("KEY", line, "OTHER", other).Replace(tt.file)
			v := authorize([]byte(file), key, tt.remote, now)
			if v.ok != tt.ok || !strings.Contains(v.reason, tt.reason) {
				t.Fatalf("authorize = %+v, want ok %v and a reason with %q", v, tt.ok, tt.reason)
			}
		})
	}

	sk := skKey(t)
	skLine := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sk)))
	if v := authorize([]byte(skLine), sk, local, now); v.ok || !strings.Contains(v.reason, "touched") {
		t.Errorf("a security key without no-touch-required: %+v", v)
	}
	if v := authorize([]byte("no-touch-required "+skLine), sk, local, now); !v.ok {
		t.Errorf("a security key with no-touch-required: %+v", v)
	}
}

func TestRefusalsAtStart(t *testing.T) {
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(newKey(t).PublicKey())))
	file := strings.Join([]string{
		"# keys", line, `from="10.0.0.0/8" ` + line, `command="/bin/false" ` + line, "no-pty " + line,
		`from="10.0.0.1/8" ` + line, "frob " + line, "not a key",
	}, "\n")
	got := refusals([]byte(file))
	var lines []int
	for _, v := range got {
		lines = append(lines, v.line)
		if strings.Contains(v.reason, strings.Fields(line)[1]) {
			t.Fatalf("a reason holds the key: %q", v.reason)
		}
	}
	if want := []int{4, 5, 6, 7, 8}; !slices.Equal(lines, want) {
		t.Fatalf("refused lines %v, want %v: %+v", lines, want, got)
	}
}
