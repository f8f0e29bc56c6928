package tui

import (
	"context"
	"strconv"
	"testing"

	"klaxon/incidents"
)

// listOf serves ids 1..n in order, chunk by chunk, counting its reads.
func listOf(n int, reads *int) fetcher[int64] {
	return func(_ context.Context, limit int, cursor string) (incidents.Page[int64], error) {
		*reads++
		from, _ := strconv.Atoi(cursor)
		var page incidents.Page[int64]
		for id := from + 1; id <= min(from+limit, n); id++ {
			page.Items = append(page.Items, int64(id))
		}
		if from+limit < n {
			page.NextCursor = strconv.Itoa(from + limit)
		}
		return page, nil
	}
}

func TestReloadReadsOnToTheSelectedRow(t *testing.T) {
	id := func(v int64) int64 { return v }
	cases := []struct {
		name       string
		n          int
		seek       int64
		wantChunks int
		wantReads  int
	}{
		{"in the window", 5000, 150, 1, 1},
		{"pushed four chunks down", 5000, 4*chunkSize + 7, 5, 5},
		{"gone from the list", 3*chunkSize - 10, 9999, 1, 3},
		{"further than a seek reads", 100 * chunkSize, 90 * chunkSize, 1, 1 + seekChunks},
		{"nothing selected", 5000, 0, 1, 1},
	}
	for _, c := range cases {
		reads := 0
		out, err := fetchWindow(context.Background(), listOf(c.n, &reads), id, loadReq{kind: loadReplace, chunks: 1, seek: c.seek})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != c.wantChunks || reads != c.wantReads {
			t.Errorf("%s: %d chunks in %d reads, want %d in %d", c.name, len(out), reads, c.wantChunks, c.wantReads)
		}
	}
}
