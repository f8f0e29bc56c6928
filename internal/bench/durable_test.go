package bench

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// countDurable counts the events another connection sees committed in the
// bare durable receiver's database.
func countDurable(t *testing.T, dir string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "durable.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Every 200 of the bare durable receiver is an event committed before the
// answer; what is not a JSON object is refused and not stored.
func TestDurableAnswersAfterTheCommit(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenDurable(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	post := func(body string) int {
		resp, err := http.Post(srv.URL+"/durable/push-events", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := 1; i <= 3; i++ {
		if code := post(`{"title":"disk full"}`); code != 200 {
			t.Fatalf("event %d: status %d", i, code)
		}
		if n := countDurable(t, dir); n != i {
			t.Fatalf("after %d answers another connection sees %d events", i, n)
		}
	}
	if code := post(`[1,2]`); code != 400 {
		t.Fatalf("a JSON array: status %d, want 400", code)
	}
	res, err := Drive(context.Background(), Load{URL: srv.URL + "/durable/push-events", Pattern: NewTitles, Connections: 8, Requests: 300, Nonce: "d"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Requests != 300 {
		t.Fatalf("load: %+v", res)
	}
	// Drive counts 300 answers; each connection may have had one more
	// request in flight when it stopped counting, answered all the same.
	if n := countDurable(t, dir); n < 3+300 || n > 3+300+8 {
		t.Fatalf("%d events stored, want 303 to 311", n)
	}
}

func TestPrintAgainstDurable(t *testing.T) {
	m := func(target string, n int64) Measurement {
		return Measurement{Run: 1, Target: target, Result: Result{Requests: n, Elapsed: 1e9}}
	}
	var out bytes.Buffer
	printAgainstDurable(&out, Medians([]Measurement{m(targetNoop, 400), m(targetDurable, 200), m(string(NewTitles), 100)}))
	if got := out.String(); !strings.HasPrefix(got, "new titles        0.50 of bare durable") || strings.Contains(got, "no-op") {
		t.Fatalf("got %q", got)
	}
	out.Reset()
	printAgainstDurable(&out, Medians([]Measurement{m(targetNoop, 400), m(string(NewTitles), 100)}))
	if out.Len() != 0 {
		t.Fatalf("without the bare durable receiver: %q", out.String())
	}
}

// The report reads in a terminal of 80 columns, even with large figures,
// with the peer and at a fixed rate.
func TestReportFitsEightyColumns(t *testing.T) {
	big := func(run int, target string) Measurement {
		return Measurement{Run: run, Target: target, Ratio: 0.99, DBBytes: 99_999 << 20, PerCommit: 255.9, Others: 1.99,
			Usage:  usage{PeakRSS: 9_999 << 20, CPU: 999 * time.Second},
			Result: Result{Requests: 999_999, Errors: 99_999, Unsent: 999_999, Elapsed: 9 * time.Second, P50: 999 * time.Millisecond, P99: 9999 * time.Millisecond, Max: 9999 * time.Millisecond}}
	}
	for _, c := range []Config{{Runs: 3}, {Runs: 3, Rate: 99_999, Peer: PeerAlertmanager}} {
		var all []Measurement
		for run := 1; run <= 3; run++ {
			for _, target := range []string{targetNoop, targetDurable, string(NewTitles), string(RepeatTitles),
				peerPrefix + string(NewTitles), peerPrefix + string(RepeatTitles)} {
				all = append(all, big(run, target))
			}
		}
		var out bytes.Buffer
		fmt.Fprintf(&out, speedFormat, "run", "target", "req/s", "p50", "p99", "max", "errors", lastColumn(c))
		for _, m := range all {
			printSpeed(&out, "1", m)
		}
		printReport(&out, all, c)
		for _, line := range strings.Split(out.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > 80 {
				t.Errorf("%d columns: %q", n, line)
			}
		}
		report := out.String()
		if c.Rate == 0 && !strings.Contains(report, "repeating titles  1.00 of no-op  p99 10.00s  99999 errors  misses the bar") {
			t.Fatalf("no verdict:\n%s", report)
		}
		if c.Rate > 0 && (strings.Contains(report, "of no-op") || !strings.Contains(report, "fell due")) {
			t.Fatalf("at a fixed rate:\n%s", report)
		}
		if !strings.Contains(report, "AM repeating") || !strings.Contains(report, "repeating titles  111111  111111   1.00   10.00s   10.00s   908µs   908µs   1.00") {
			t.Fatalf("no comparison with the peer:\n%s", report)
		}
	}
}
