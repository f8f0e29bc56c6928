package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "klaxon test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func TestTLSAndExposureWarning(t *testing.T) {
	cert, key := writeSelfSigned(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app, err := OpenApp(ctx, Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), TLSCert: cert, TLSKey: key}, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Run(ctx) }()
	defer func() {
		cancel()
		<-served
		app.Close()
	}()
	if !strings.HasPrefix(app.WebhookURL(), "https://") {
		t.Fatalf("webhook URL with TLS: %s", app.WebhookURL())
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = client.Post(app.WebhookURL(), "", strings.NewReader(`{"title":"over tls"}`)); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST over TLS: %v %v", resp, err)
	}
	resp.Body.Close()

	// Beyond loopback without TLS: a warning; with only one of the pair: an error.
	wide, err := OpenApp(ctx, Config{Listen: "0.0.0.0:0", DataDir: t.TempDir()}, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer wide.Close()
	if !strings.Contains(wide.Warning, "without TLS") {
		t.Fatalf("warning = %q", wide.Warning)
	}
	if _, err := OpenApp(ctx, Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), TLSCert: cert}, &syncBuffer{}); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("cert without key: %v", err)
	}
}

// With the certificate a klaxon serves (--tls-cert, as for the server), the
// command line speaks HTTPS to it; without, it says what to pass.
func TestCommandsSpeakHTTPSWithTheCertificate(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeSelfSigned(t, t.TempDir())
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var serveOut syncBuffer
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"serve", "--listen", addr, "--data-dir", dir, "--tls-cert", cert, "--tls-key", key}, Env{Stdout: &serveOut, Stderr: &serveOut})
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, serveOut.String())
		}
	}()
	common := []string{"--listen", addr, "--data-dir", dir}
	var list string
	for i := 0; i < 200; i++ {
		var code int
		// Until serve listens, integrations reads the data directory (no
		// lock), which may not hold the default integration yet.
		if code, list, _ = run(t, append([]string{"integrations", "--tls-cert", cert}, common...)...); code == 0 && strings.Contains(list, "https://"+addr+"/") {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	url := ""
	for _, f := range strings.Fields(list) {
		if strings.HasPrefix(f, "https://"+addr+"/") {
			url = f
		}
	}
	if url == "" {
		t.Fatalf("integrations over HTTPS: %q; serve: %s", list, serveOut.String())
	}
	if code, out, errOut := run(t, "send", url, "--title", "over tls", "--tls-cert", cert); code != 0 || !strings.Contains(out, "created") {
		t.Fatalf("send with the certificate: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run(t, "send", url, "--title", "untrusted"); code == 0 || !strings.Contains(errOut, "--tls-cert") {
		t.Fatalf("send without the certificate: %d %q", code, errOut)
	}
	// A sender's real request (here PagerDuty's, to /v2/enqueue) too.
	if code, out, errOut := run(t, "send", "--kind", "pagerduty", url, "--title", "paged over tls", "--tls-cert", cert); code != 0 || !strings.HasPrefix(out, "202 ") {
		t.Fatalf("send --kind pagerduty with the certificate: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run(t, "send", "--kind", "pagerduty", url, "--title", "untrusted"); code == 0 || !strings.Contains(errOut, "--tls-cert") {
		t.Fatalf("send --kind pagerduty without the certificate: %d %q", code, errOut)
	}
	code, out, errOut := run(t, append([]string{"incidents", "--tls-cert", cert}, common...)...)
	if code != 0 || !strings.Contains(out, "over tls") {
		t.Fatalf("incidents with the certificate: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run(t, append([]string{"incidents"}, common...)...); code == 0 || !strings.Contains(errOut, "serves HTTPS") || !strings.Contains(errOut, "--tls-cert") {
		t.Fatalf("incidents over HTTP to an HTTPS klaxon: %d %q", code, errOut)
	}
	if code, out, errOut := run(t, append([]string{"replay", "1", "--tls-cert", cert}, common...)...); code != 0 || !strings.HasPrefix(out, "200 ") {
		t.Fatalf("replay over HTTPS: %d %q %q", code, out, errOut)
	}
}
