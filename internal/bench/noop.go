package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// NoopHandler is the yardstick: a net/http handler that only decodes the
// JSON event and answers 200, storing nothing. It reads the body with the
// receiver's limit and refuses what is not a JSON object, as the receiver
// does, so the two do comparable HTTP and JSON work.
func NoopHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := decodeEvent(w, r); ok {
			w.Write(acceptedAnswer)
		}
	})
}

// acceptedAnswer is what the yardsticks answer an event they took, shaped
// like the receiver's answer.
var acceptedAnswer = []byte(`{"ok":true,"action":"created","incident":1,"warnings":[]}` + "\n")

// decodeEvent reads the body with the receiver's limit and decodes it as the
// yardsticks do. What is not a JSON object it answers with 400 and reports
// false.
func decodeEvent(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	var event map[string]any
	body, err := io.ReadAll(io.LimitReader(r.Body, 512<<10))
	if err == nil {
		err = json.Unmarshal(body, &event)
	}
	w.Header().Set("Content-Type", "application/json")
	if err != nil || event == nil {
		w.WriteHeader(400)
		w.Write([]byte(`{"ok":false,"error":"not a JSON object"}` + "\n"))
		return nil, false
	}
	return body, true
}

// newServer is an http.Server for a yardstick, with the receiver's timeouts.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// ServeNoop listens on 127.0.0.1:0, prints "url <URL>" to out and serves
// NoopHandler until ctx is done. The server has the receiver's timeouts.
func ServeNoop(ctx context.Context, out io.Writer) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := newServer(NoopHandler())
	fmt.Fprintf(out, "url http://%s/noop/push-events\n", l.Addr())
	return serveUntil(ctx, func() error { return srv.Serve(l) }, srv.Shutdown)
}
