package pgstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"klaxon/incidents"
)

// BenchmarkIngest is events from many senders at once on one node: every
// title new (created) or one title over and over (suppressed, each repeat
// locking the one incident). Each event commits before it is answered;
// commits/op says how many shared one.
func BenchmarkIngest(b *testing.B) {
	for _, mode := range []string{"new", "repeat"} {
		b.Run(mode, func(b *testing.B) {
			db := openTest(b, freshSchema(b), Options{Writers: benchWriters})
			integ := &incidents.Integration{Name: "bench", Service: "bench", Kind: incidents.KindWebhook, Token: incidents.NewToken(), CreatedAt: clock}
			if err := db.CreateIntegration(context.Background(), integ); err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			commits := db.Commits()
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					title := "same"
					if mode == "new" {
						title = fmt.Sprint("t", n.Add(1))
					}
					if _, err := db.Ingest(context.Background(), integ, incidents.Event{Key: title, Title: title, Action: incidents.Trigger},
						&incidents.Request{At: clock, Method: "POST", Path: "/bench/push-events", Body: `{"title":"` + title + `"}`}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(db.Commits()-commits)/float64(b.N), "commits/op")
		})
	}
}

var benchWriters = 1
