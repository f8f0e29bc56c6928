package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"klaxon/internal/termtext"
	"klaxon/senders"
)

// runReplay sends a journaled request again, to the integration it went to or
// to --to, so that a person fixing a sender can retry in seconds.
func runReplay(ctx context.Context, args []string, e Env) error {
	var c Config
	var to string
	fs := newFlagSet("klaxon replay", "klaxon replay REQUEST_ID [--to URL]",
		"Sends a request from the journal again: the same method, Content-Type and body, to the same integration's webhook URL (or to --to, such as another klaxon). The replay is journaled like any request.", e.Stderr)
	commonFlags(fs, &c)
	fs.StringVar(&to, "to", "", "send it to this webhook `URL` instead")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "replay takes one request ID (the Requests view and GET /api/v1/requests show them)")
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(pos[0], "#"), 10, 64)
	if err != nil || id < 1 {
		return usageError(fs, "%q is not a request ID", pos[0])
	}
	hc, err := senderFor(c)
	if err != nil {
		return err
	}
	var status int
	var answer string
	err = withBackend(ctx, c, func(b backend) (err error) {
		status, answer, err = replayRequest(ctx, b, hc, id, to, e.Stderr)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "%d %s\n", status, termtext.Line(answer))
	if status/100 != 2 {
		return fmt.Errorf("the replay was refused with %d", status)
	}
	return nil
}

// replayRequest sends journal entry id again, to its integration's webhook
// URL or to to, and returns the answer. Warnings go to warn.
func replayRequest(ctx context.Context, b backend, hc *http.Client, id int64, to string, warn io.Writer) (int, string, error) {
	req, err := b.Request(ctx, id)
	if err != nil {
		return 0, "", err
	}
	if to == "" {
		if req.Integration == "" {
			return 0, "", fmt.Errorf("request %d went to a token that matched no integration; pass --to URL to say where to send it", id)
		}
		list, err := b.Integrations(ctx)
		if err != nil {
			return 0, "", err
		}
		for _, in := range list {
			if in.Name == req.Integration {
				to = in.URL
			}
		}
		if to == "" {
			return 0, "", fmt.Errorf("request %d went to integration %q, which no longer exists; pass --to URL", id, termtext.Line(req.Integration))
		}
	}
	contentType := ""
	if v := req.Headers["Content-Type"]; len(v) > 0 {
		contentType = v[0]
	}
	if req.Truncated && warn != nil {
		fmt.Fprintf(warn, "klaxon: warning: request %d's body was cut at the size limit when journaled; sending what was kept\n", id)
	}
	// The exact bytes that arrived (the journal keeps them, not UTF-8 or
	// not), with the encoding they were labelled with.
	r := senders.Request{Method: req.Method, URL: to, Body: []byte(req.Body), Header: map[string]string{}}
	if contentType != "" {
		r.Header["Content-Type"] = contentType
	}
	if v := req.Headers["Content-Encoding"]; len(v) > 0 {
		r.Header["Content-Encoding"] = v[0]
	}
	return sendRequest(ctx, hc, r)
}

// replayFunc is the console's R key: replay through b, answered as "STATUS BODY".
func replayFunc(b backend, hc *http.Client) func(ctx context.Context, id int64) (string, error) {
	return func(ctx context.Context, id int64) (string, error) {
		status, answer, err := replayRequest(ctx, b, hc, id, "", nil)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d %s", status, answer), nil
	}
}

// sendRaw sends one request with hc as a sender would and returns the answer.
func sendRaw(ctx context.Context, hc *http.Client, method, url, contentType, body string) (int, string, error) {
	req := senders.Request{Method: method, URL: url, Body: []byte(body)}
	if contentType != "" {
		req.Header = map[string]string{"Content-Type": contentType}
	}
	return sendRequest(ctx, hc, req)
}

// sendRequest sends r with hc, its headers as given (User-Agent klaxon
// unless r names one), and returns the answer.
func sendRequest(ctx context.Context, hc *http.Client, r senders.Request) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return 0, "", fmt.Errorf("%q is not a URL: %v", r.URL, err)
	}
	req.Header.Set("User-Agent", "klaxon")
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		return 0, "", fmt.Errorf("send: %s serves a certificate this machine does not trust: pass that certificate with --tls-cert FILE (KLAXON_TLS_CERT)", r.URL)
	}
	if err != nil {
		return 0, "", fmt.Errorf("send: %v", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, strings.TrimSpace(string(answer)), nil
}
