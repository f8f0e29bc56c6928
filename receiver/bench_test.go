package receiver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"klaxon/incidents"
	"klaxon/storage"
)

// BenchmarkPushEvents posts events to a real receiver over loopback HTTP with
// 64 keep-alive clients, every event committed (group commit) before its
// answer, as in production. ns/op is wall time per event across all clients.
// klaxon bench measures the same against a no-op handler, in its own process.
//
//	go test ./receiver -run XXX -bench PushEvents -benchtime 20000x
func BenchmarkPushEvents(b *testing.B) {
	for _, pattern := range []string{"new", "repeat"} {
		b.Run(pattern, func(b *testing.B) {
			db, err := storage.Open(context.Background(), filepath.Join(b.TempDir(), "k.db"), storage.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			svc := incidents.NewService(db, nil)
			integ, err := svc.CreateIntegration(context.Background(), "bench", "", "", incidents.KindWebhook)
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(nil)
			rs := New(svc, Options{APIToken: "t", BaseURL: "http://" + srv.Listener.Addr().String()})
			srv.Config = rs.HTTPServer("", nil)
			srv.Start()
			defer srv.Close()
			url := srv.URL + "/" + integ.Token + "/push-events"
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var n atomic.Int64
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0))) // 64 clients
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					title := fmt.Sprintf("disk nearly full %d", i)
					if pattern == "repeat" {
						title = fmt.Sprintf("disk nearly full %d", i%1000)
					}
					resp, err := client.Post(url, "application/json", strings.NewReader(
						`{"title":"`+title+`","severity":"sev2","priority":"p3","body":{"host":"db-1","used_percent":97.5}}`))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("answered %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
