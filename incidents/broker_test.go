package incidents

import "testing"

func TestSlowSubscriberGetsResync(t *testing.T) {
	b := NewBroker()
	ch, cancel := b.Subscribe()
	defer cancel()
	fast, cancelFast := b.Subscribe()
	defer cancelFast()
	for i := 0; i < SubscriberBuffer+10; i++ {
		b.Publish(Change{Incident: &Incident{ID: int64(i)}})
		if i < SubscriberBuffer { // the fast subscriber keeps up
			<-fast
		}
	}
	resyncs, n := 0, 0
	for len(ch) > 0 {
		if (<-ch).Resync {
			resyncs++
		}
		n++
	}
	if resyncs != 1 || n > SubscriberBuffer {
		t.Fatalf("slow subscriber: %d queued with %d resyncs; want one resync", n, resyncs)
	}
	for len(fast) > 0 {
		if (<-fast).Resync {
			t.Fatal("a subscriber that kept up was told to resync")
		}
	}
}

func TestUnsubscribeClosesAndStopsDelivery(t *testing.T) {
	b := NewBroker()
	ch, cancel := b.Subscribe()
	cancel()
	cancel() // twice is harmless
	b.Publish(Change{Resync: true})
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after cancel")
	}
}
