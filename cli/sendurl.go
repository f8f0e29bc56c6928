package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"klaxon/senders"
)

// readURLFile reads the webhook URL for klaxon send --url-file: the one URL
// in path, or on stdin for "-", so that its token is never on a command line
// (where ps and shell history show it).
func readURLFile(path string, stdin io.Reader) (string, error) {
	name := path
	var r io.Reader
	if path == "-" {
		name, r = "stdin", stdin
		if r == nil {
			r = os.Stdin
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("--url-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", fmt.Errorf("--url-file: reading %s: %w", name, err)
	}
	u := strings.TrimSpace(string(b))
	switch {
	case u == "":
		return "", fmt.Errorf("--url-file: %s holds no URL", name)
	case strings.ContainsAny(u, " \t\r\n"):
		return "", fmt.Errorf("--url-file: %s holds more than one URL; it should hold only the webhook URL", name)
	}
	return u, nil
}

// hideToken keeps the token of the webhook URL u out of err's message (a
// connection error quotes the URL): the token becomes <token>, and a URL
// read from a file that is no webhook URL is not repeated at all.
func hideToken(err error, u string, fromFile bool) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if _, token, perr := senders.ParseWebhookURL(u); perr == nil {
		msg = strings.ReplaceAll(msg, token, "<token>")
	} else if fromFile {
		msg = strings.ReplaceAll(msg, u, "the URL of --url-file")
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
