package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// A replay sends exactly the bytes that arrived, with their encoding: a
// body that is not UTF-8, and a gzip body (refused 415 when it arrived),
// reach the replay's target byte for byte.
func TestReplaySendsTheExactBytes(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	startServe(t, addr, dir)
	common := []string{"--listen", addr, "--data-dir", dir}
	_, out, _ := run(t, append([]string{"integrations"}, common...)...)
	url := regexp.MustCompile(`http://\S+/push-events`).FindString(out)
	if url == "" {
		t.Fatalf("no webhook URL in %q", out)
	}
	var (
		mu   sync.Mutex
		got  []byte
		enc  string
		seen int
	)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, enc, seen = b, r.Header.Get("Content-Encoding"), seen+1
		mu.Unlock()
		w.Write([]byte(`{"ok":true}`))
	}))
	defer target.Close()

	for i, c := range []struct {
		body     []byte
		encoding string
	}{
		{[]byte("{\"title\":\"caf\xe9 \xff\xfe latin-1\"}"), ""},
		{[]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\x56\x2a\xc9\x2c\xc9\x49\x55\xb2\x52\x4a\xaf\xca\x2c\x50\xaa\x05\x00"), "gzip"},
	} {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		if c.encoding != "" {
			req.Header.Set("Content-Encoding", c.encoding)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := strconv.Itoa(i + 1)
		if code, out, errOut := run(t, append([]string{"replay", id, "--to", target.URL}, common...)...); code != 0 {
			t.Fatalf("replay %s: %d %q %q", id, code, out, errOut)
		}
		mu.Lock()
		if !bytes.Equal(got, c.body) || enc != c.encoding {
			t.Errorf("replay %s sent %q (Content-Encoding %q), want %q (%q)", id, got, enc, c.body, c.encoding)
		}
		mu.Unlock()
	}
	if !strings.Contains(url, "/push-events") || seen != 2 {
		t.Fatalf("target saw %d replays", seen)
	}
}
