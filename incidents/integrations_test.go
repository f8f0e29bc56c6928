package incidents_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/storage"
)

func TestValidIntegrationName(t *testing.T) {
	for _, name := range []string{"default", "alertmanager/prod", "db-1.eu_west", "Grafana2", "証明書", "adopted-0a1b2c3d"} {
		if err := incidents.ValidIntegrationName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	for name, want := range map[string]string{
		"":                       "needs a name",
		"my integration":         `no spaces): " " is none of them; try "my-integration"`,
		"evil\x1b[31m":           "only letters, digits",
		"-rf":                    "must start with a letter or a digit",
		"/etc":                   "must start with a letter or a digit",
		"..":                     "must start with a letter or a digit",
		"a?b":                    "only letters",
		strings.Repeat("x", 201): "at most 200",
	} {
		err := incidents.ValidIntegrationName(name)
		if err == nil || incidents.ErrorCode(err) != incidents.EINVALID || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want EINVALID saying %q", name, err, want)
		}
	}
}

// clock is a settable clock for a Service.
type clock struct{ ms atomic.Int64 }

func (c *clock) now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *clock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func newService(t *testing.T) (*incidents.Service, *clock) {
	t.Helper()
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{}
	c.ms.Store(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC).UnixMilli())
	return incidents.NewService(db, c.now), c
}

func trigger(t *testing.T, svc *incidents.Service, integ *incidents.Integration, title string) incidents.IngestResult {
	t.Helper()
	res, err := svc.Ingest(context.Background(), integ, incidents.Event{Key: title, Title: title, Action: incidents.Trigger},
		&incidents.Request{At: svc.Now(), Method: "POST", Path: "/x/push-events"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A removed integration's token is refused saying so, it is listed no more,
// its incidents keep its name; its name again brings it back.
func TestRemoveKeepsIncidentsAndRefusesTheToken(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	if _, err := svc.CreateIntegration(ctx, "my integration", "", "", ""); incidents.ErrorCode(err) != incidents.EINVALID {
		t.Fatalf("a name with a space: %v", err)
	}
	keep, _ := svc.CreateIntegration(ctx, "keep", "", "", "")
	test, err := svc.CreateIntegration(ctx, "test", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	first := trigger(t, svc, test, "disk full")
	if _, err := svc.RemoveIntegration(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RemoveIntegration(ctx, "test"); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("removed twice: %v", err)
	}
	integ, err := svc.IntegrationByToken(ctx, test.Token)
	if integ != nil || incidents.ErrorCode(err) != incidents.ENOTFOUND || !strings.Contains(err.Error(), "this integration was removed") {
		t.Fatalf("the removed token: %v %v", integ, err)
	}
	if integ, _ := svc.AdoptToken(ctx, test.Token); integ != nil {
		t.Fatal("--accept-any-token adopted a removed token")
	}
	if integ, err := svc.IntegrationByToken(ctx, keep.Token); err != nil || integ == nil || integ.Name != "keep" {
		t.Fatalf("another integration's token: %v %v", integ, err)
	}
	all, _ := svc.Integrations(ctx)
	if len(all) != 1 || all[0].Name != "keep" {
		t.Fatalf("integrations: %+v", all)
	}
	if found, _ := svc.IntegrationNamed(ctx, "test"); found != nil {
		t.Fatal("IntegrationNamed finds a removed integration")
	}
	in, err := svc.Incident(ctx, first.Incident.ID)
	if err != nil || in.Integration != "test" || in.Status != incidents.Triggered {
		t.Fatalf("its incident: %+v %v", in, err)
	}

	back, err := svc.CreateIntegration(ctx, "test", "", "", incidents.KindHealthchecks)
	if err != nil || back.ID != test.ID || back.Token == test.Token || back.Kind != incidents.KindHealthchecks {
		t.Fatalf("the name again: %+v %v (was %+v)", back, err, test)
	}
	if res := trigger(t, svc, back, "disk full"); res.Outcome != incidents.Folded || res.Incident.ID != first.Incident.ID {
		t.Fatalf("brought back, it does not fold into its open incident: %+v", res)
	}
	if _, err := svc.IntegrationByToken(ctx, test.Token); incidents.ErrorCode(err) != incidents.ENOTFOUND || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("the token before the removal, after the name came back: %v", err)
	}
}

// A rotated-out token works for its grace period, then answers 404 saying
// it was replaced; a rotation ends earlier graces.
func TestRotateGrace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "klaxon.db")
	db, err := storage.Open(ctx, path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &clock{}
	c.ms.Store(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC).UnixMilli())
	svc := incidents.NewService(db, c.now)
	prom, _ := svc.CreateIntegration(ctx, "prom", "", "", "")
	if _, _, err := svc.RotateToken(ctx, "prom", -time.Second); incidents.ErrorCode(err) != incidents.EINVALID {
		t.Fatalf("a negative grace: %v", err)
	}
	if _, _, err := svc.RotateToken(ctx, "nosuch", 0); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("an unknown name: %v", err)
	}
	second, until, err := svc.RotateToken(ctx, "prom", time.Hour)
	if err != nil || second.Token == prom.Token || !until.Equal(svc.Now().Add(time.Hour)) {
		t.Fatalf("rotate: %+v %v %v", second, until, err)
	}
	for _, tok := range []string{prom.Token, second.Token} {
		if integ, err := svc.IntegrationByToken(ctx, tok); err != nil || integ == nil || integ.ID != prom.ID || integ.Token != second.Token {
			t.Fatalf("during the grace: %v %v", integ, err)
		}
	}
	// A restart keeps it.
	restarted := incidents.NewService(db, c.now)
	if integ, err := restarted.IntegrationByToken(ctx, prom.Token); err != nil || integ == nil {
		t.Fatalf("after a restart, during the grace: %v %v", integ, err)
	}
	c.advance(2 * time.Hour)
	for _, s := range []*incidents.Service{svc, restarted} {
		if _, err := s.IntegrationByToken(ctx, prom.Token); incidents.ErrorCode(err) != incidents.ENOTFOUND || !strings.Contains(err.Error(), `klaxon integrations show prom`) {
			t.Fatalf("after the grace: %v", err)
		}
	}
	// A rotation ends the grace of the token rotated out before it.
	third, _, _ := svc.RotateToken(ctx, "prom", time.Hour)
	if integ, _ := svc.IntegrationByToken(ctx, second.Token); integ == nil {
		t.Fatal("the token just rotated out is refused during its grace")
	}
	if _, _, err := svc.RotateToken(ctx, "prom", 0); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{second.Token, third.Token} {
		if integ, err := svc.IntegrationByToken(ctx, tok); integ != nil || incidents.ErrorCode(err) != incidents.ENOTFOUND {
			t.Fatalf("a token rotated out without grace: %v %v", integ, err)
		}
	}
}
