package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"klaxon/remote"
)

// The command line speaks HTTPS to a klaxon that serves it. Given the
// certificate that klaxon serves (--tls-cert, KLAXON_TLS_CERT: the same
// flag and file as the server's), it trusts it besides the system's roots,
// so a self-signed certificate works; and the klaxon at --listen is then
// addressed with https://.

// clientTLS is the TLS configuration for c's connections: nil without
// --tls-cert.
func clientTLS(c Config) (*tls.Config, error) {
	if c.TLSCert == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.TLSCert)
	if err != nil {
		return nil, fmt.Errorf("read the certificate to trust (--tls-cert): %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate (--tls-cert wants the certificate the klaxon serves)", c.TLSCert)
	}
	return &tls.Config{RootCAs: pool}, nil
}

// apiBase is the klaxon at --listen: https:// with --tls-cert.
func apiBase(c Config) string {
	base := baseURL(c.Listen)
	if c.TLSCert != "" {
		base = "https" + strings.TrimPrefix(base, "http")
	}
	return base
}

// newClient is a client of the klaxon at base with c's API token and TLS.
func newClient(c Config, base string) (*remote.Client, error) {
	cfg, err := clientTLS(c)
	if err != nil {
		return nil, err
	}
	client := remote.New(base, readAPIToken(c))
	if cfg != nil {
		client.UseTLS(cfg)
	}
	return client, nil
}

// senderFor is the HTTP client that sends webhooks (klaxon send, replays)
// with c's TLS.
func senderFor(c Config) (*http.Client, error) {
	hc := &http.Client{Timeout: 30 * time.Second}
	cfg, err := clientTLS(c)
	if err != nil || cfg == nil {
		return hc, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	hc.Transport = t
	return hc, nil
}
