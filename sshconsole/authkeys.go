package sshconsole

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// verdict is what the authorized_keys file says of one key offered from one
// address.
type verdict struct {
	ok     bool
	line   int    // the line that decided; 0 when none holds the key
	reason string // why the key is refused
}

// notListed is the reason for a key that no line holds.
const notListed = "not in the authorized_keys file"

// authorize reads the authorized_keys text data as sshd does for key offered
// from remote at now: the first line that holds the key and whose from= and
// expiry-time= let it in decides. If that line restricts the key in a way the
// console cannot honour (a forced command, no PTY, a security key's touch or
// verification), the key is refused.
func authorize(data []byte, key gossh.PublicKey, remote netip.Addr, now time.Time) verdict {
	want := key.Marshal()
	var passed []string // why lines holding the key did not let it in
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		pub, _, opts, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil || !bytes.Equal(pub.Marshal(), want) {
			continue
		}
		lineNo := n + 1
		o, err := parseKeyOptions(opts)
		if err != nil {
			passed = append(passed, fmt.Sprintf("line %d: %v", lineNo, err))
			continue
		}
		if reason := o.admits(remote, now); reason != "" {
			passed = append(passed, fmt.Sprintf("line %d: %s", lineNo, reason))
			continue
		}
		if reason := o.unsupported(key); reason != "" {
			return verdict{line: lineNo, reason: fmt.Sprintf("line %d: %s", lineNo, reason)}
		}
		return verdict{ok: true, line: lineNo}
	}
	if len(passed) == 0 {
		return verdict{reason: notListed}
	}
	return verdict{reason: strings.Join(passed, "; ")}
}

// refusals lists the lines of data whose options refuse their key whoever
// offers it, for a warning at start.
func refusals(data []byte) []verdict {
	var out []verdict
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		pub, _, opts, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			out = append(out, verdict{line: n + 1, reason: fmt.Sprintf("line %d is not a key klaxon can read", n+1)})
			continue
		}
		o, err := parseKeyOptions(opts)
		reason := ""
		switch {
		case err != nil:
			reason = err.Error()
		case o.certAuthority:
			reason = "cert-authority: klaxon takes no certificates"
		case o.fromErr != nil:
			reason = o.fromErr.Error()
		default:
			reason = o.unsupported(pub)
		}
		if reason != "" {
			out = append(out, verdict{line: n + 1, reason: fmt.Sprintf("line %d (%s): %s", n+1, gossh.FingerprintSHA256(pub), reason)})
		}
	}
	return out
}

// keyOptions are an authorized_keys line's options, as sshd(8) reads them.
type keyOptions struct {
	from            *string // from="pattern-list"
	fromErr         error   // from= that cannot be read
	command         *string // command="…"
	noPTY           bool    // no-pty, or restrict without a later pty
	expiry          time.Time
	certAuthority   bool
	verifyRequired  bool
	noTouchRequired bool
}

// parseKeyOptions reads the options of a line as gossh split them (each
// still quoted). Unknown options, a flag given a value, a value without
// quotes or an option given twice make the line unusable, as in sshd.
func parseKeyOptions(opts []string) (keyOptions, error) {
	var o keyOptions
	for _, opt := range opts {
		name, value, hasValue := strings.Cut(opt, "=")
		name = strings.ToLower(name)
		if hasValue {
			v, err := dequote(value)
			if err != nil {
				return o, fmt.Errorf("option %s: %v", name, err)
			}
			value = v
		}
		switch {
		case valued[name] && !hasValue:
			return o, fmt.Errorf("option %s needs a value", name)
		case !valued[name] && hasValue:
			if !flags[name] {
				return o, fmt.Errorf("unknown option %q", name)
			}
			return o, fmt.Errorf("option %s takes no value", name)
		}
		switch name {
		case "from":
			if o.from != nil {
				return o, errors.New("from= given twice")
			}
			o.from = &value
			if err := checkFrom(value); err != nil {
				o.fromErr = fmt.Errorf("from=%q cannot be read: %v", value, err)
			}
		case "command":
			if o.command != nil {
				return o, errors.New("command= given twice")
			}
			o.command = &value
		case "expiry-time":
			t, err := parseExpiry(value)
			if err != nil {
				return o, err
			}
			o.expiry = t
		case "restrict":
			o.noPTY = true
		case "pty":
			o.noPTY = false
		case "no-pty":
			o.noPTY = true
		case "cert-authority":
			o.certAuthority = true
		case "verify-required":
			o.verifyRequired = true
		case "no-touch-required":
			o.noTouchRequired = true
		default:
			if !valued[name] && !flags[name] {
				return o, fmt.Errorf("unknown option %q", name)
			}
			// The rest allow or forbid what klaxon's SSH server never
			// offers (forwarding of ports, agents, X11 or tunnels, ~/.ssh/rc,
			// environment variables): nothing to do.
		}
	}
	return o, nil
}

// valued are the options with a value that sshd knows.
var valued = map[string]bool{"from": true, "command": true, "expiry-time": true, "environment": true,
	"permitopen": true, "permitlisten": true, "principals": true, "tunnel": true}

// flags are the options without a value that sshd knows.
var flags = map[string]bool{
	"restrict": true, "pty": true, "no-pty": true, "cert-authority": true,
	"verify-required": true, "no-touch-required": true,
	"port-forwarding": true, "no-port-forwarding": true,
	"agent-forwarding": true, "no-agent-forwarding": true,
	"x11-forwarding": true, "no-x11-forwarding": true,
	"user-rc": true, "no-user-rc": true,
}

// admits says why the line does not let a key in from remote at now, or "".
func (o keyOptions) admits(remote netip.Addr, now time.Time) string {
	if o.certAuthority {
		return "cert-authority: klaxon takes no certificates"
	}
	if !o.expiry.IsZero() && !now.Before(o.expiry) {
		return fmt.Sprintf("expiry-time passed at %s", o.expiry.Format(time.RFC3339))
	}
	if o.from != nil {
		if o.fromErr != nil {
			return o.fromErr.Error()
		}
		if !remote.IsValid() {
			return fmt.Sprintf("from=%q: the client's address is unknown", *o.from)
		}
		if ok, _ := matchFrom(remote, *o.from); !ok {
			return fmt.Sprintf("from=%q does not allow %s", *o.from, remote)
		}
	}
	return ""
}

// unsupported says why the console cannot honour the line's restrictions
// for key, or "".
func (o keyOptions) unsupported(key gossh.PublicKey) string {
	switch {
	case o.command != nil && *o.command != "":
		return fmt.Sprintf("command=%q: klaxon's SSH server runs only the console and cannot force a command", *o.command)
	case o.noPTY:
		return "no-pty (or restrict without pty): the console needs a terminal"
	case o.verifyRequired:
		return "verify-required: klaxon cannot check a security key's user verification"
	case strings.HasPrefix(key.Type(), "sk-") && !o.noTouchRequired:
		return "a security key must be touched and klaxon cannot check that it was; add no-touch-required to let it in without"
	}
	return ""
}

// dequote reads an option's "value": quotes around it, \" for a quote.
func dequote(v string) (string, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", errors.New("the value must be in double quotes")
	}
	return strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`), nil
}

// parseExpiry reads expiry-time="YYYYMMDD[HHMM[SS]][Z]": local time unless Z.
func parseExpiry(v string) (time.Time, error) {
	loc := time.Local
	s := v
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		s, loc = s[:len(s)-1], time.UTC
	}
	layout := map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}[len(s)]
	t, err := time.ParseInLocation(layout, s, loc)
	if layout == "" || err != nil {
		return time.Time{}, fmt.Errorf("expiry-time=%q is not YYYYMMDD[HHMM[SS]][Z]", v)
	}
	return t, nil
}

// matchFrom matches the client's address against a from= pattern list as
// sshd's match_host_and_ip does with UseDNS no (its default), where the
// client's host name is its address: a comma-separated list of addresses,
// CIDR networks and wildcard patterns (* and ?), each possibly negated
// with !. A negated match refuses whatever else matches; otherwise one
// positive match admits. A network with bits set past its mask
// (10.0.0.1/8) or a mask too long is an error, and an error refuses.
func matchFrom(ip netip.Addr, patterns string) (bool, error) {
	addr := ip.String()
	mip, err := addrMatchList(ip, addr, patterns)
	if err != nil {
		return false, err
	}
	if mip < 0 {
		return false, nil
	}
	mhost := matchPatternList(strings.ToLower(addr), patterns)
	if mhost < 0 {
		return false, nil
	}
	return mip > 0 || mhost > 0, nil
}

// checkFrom reports a from= pattern list that sshd would refuse. (sshd
// notices one only when it reaches it; klaxon refuses the line whoever
// connects.)
func checkFrom(list string) error {
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimPrefix(p, "!")
		if p == "" {
			return errors.New("an empty pattern")
		}
		if _, _, err := parseNetwork(p); err != nil {
			return err
		}
	}
	return nil
}

// addrMatchList is OpenSSH's addr_match_list: 1 for a match, -1 for a
// negated match, 0 for none.
func addrMatchList(ip netip.Addr, addr, list string) (int, error) {
	ret := 0
	for _, p := range strings.Split(list, ",") {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if p == "" {
			return 0, errors.New("an empty pattern")
		}
		prefix, isNet, err := parseNetwork(p)
		if err != nil {
			return 0, err
		}
		var found bool
		if isNet {
			found = prefix.Contains(ip)
		} else {
			found = wildcard(addr, p)
		}
		if found {
			if neg {
				return -1, nil
			}
			ret = 1
		}
	}
	return ret, nil
}

// parseNetwork reads an address or address/bits; isNet is false for
// anything else (a wildcard pattern or a name).
func parseNetwork(p string) (netip.Prefix, bool, error) {
	a, bits, hasBits := strings.Cut(p, "/")
	ip, err := netip.ParseAddr(a)
	if err != nil || ip.Zone() != "" {
		return netip.Prefix{}, false, nil
	}
	if !hasBits {
		return netip.PrefixFrom(ip, ip.BitLen()), true, nil
	}
	if bits == "" || bits[0] < '0' || bits[0] > '9' {
		return netip.Prefix{}, false, nil
	}
	prefix, err := netip.ParsePrefix(p)
	if err != nil {
		return netip.Prefix{}, false, fmt.Errorf("%q: the mask is too long", p)
	}
	if prefix.Masked() != prefix {
		return netip.Prefix{}, false, fmt.Errorf("%q has address bits set past its /%d", p, prefix.Bits())
	}
	return prefix, true, nil
}

// matchPatternList is OpenSSH's match_pattern_list with the patterns
// lower-cased: 1 for a match, -1 for a negated match, 0 for none.
func matchPatternList(s, list string) int {
	got := 0
	for _, p := range strings.Split(list, ",") {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if wildcard(s, strings.ToLower(p)) {
			if neg {
				return -1
			}
			got = 1
		}
	}
	return got
}

// wildcard matches s against p, where * is any run of bytes and ? one byte.
func wildcard(s, p string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if wildcard(s[i:], p) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
		}
		s, p = s[1:], p[1:]
	}
	return s == ""
}

// remoteIP is the client's address, IPv4 unmapped; invalid when it is not
// an IP address.
func remoteIP(a net.Addr) netip.Addr {
	if tcp, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(tcp.IP); ok {
			return ip.Unmap().WithZone("")
		}
	}
	if a == nil {
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	return netip.Addr{}
}
