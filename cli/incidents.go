package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"klaxon/api"
	"klaxon/incidents"
	"klaxon/internal/termtext"
	"klaxon/receiver"
)

// filterFlags adds the API's incident filters to fs (SPEC §4).
type filterFlags struct {
	status, severity, priority, integration, q string
}

func (ff *filterFlags) add(fs *flag.FlagSet, defaultStatus string) {
	fs.StringVar(&ff.status, "status", defaultStatus, "which incidents: open, triggered, acknowledged, resolved or all")
	fs.StringVar(&ff.severity, "severity", "", "only this severity: sev1, sev2, sev3 or none")
	fs.StringVar(&ff.priority, "priority", "", "only this priority: p1 … p5 or none")
	fs.StringVar(&ff.integration, "integration", "", "only this integration (by name)")
	fs.StringVar(&ff.q, "q", "", "only incidents whose title, details or integration contain this text")
}

func (ff *filterFlags) filter() (incidents.Filter, error) {
	return receiver.ParseFilter(map[string][]string{
		"status": {ff.status}, "severity": {ff.severity}, "priority": {ff.priority},
		"integration": {ff.integration}, "q": {ff.q},
	})
}

// listAll reads every page of what f selects, up to max incidents (0: all).
func listAll(ctx context.Context, b backend, f incidents.Filter, max int) ([]*incidents.Incident, error) {
	l, err := listUpTo(ctx, b, f, max)
	return l.Items, err
}

// listUpTo reads the pages of what f selects from f.Cursor on, up to max
// incidents (0: all). Its last page asks for no more than remain, so the
// cursor it returns takes up right after the last incident listed; it is
// empty when nothing is left.
func listUpTo(ctx context.Context, b backend, f incidents.Filter, max int) (incidents.Page[*incidents.Incident], error) {
	var all incidents.Page[*incidents.Incident]
	for {
		f.Limit = pageSize
		if max > 0 && max-len(all.Items) < pageSize {
			f.Limit = max - len(all.Items)
		}
		page, err := b.ListIncidents(ctx, f)
		if err != nil {
			return all, err
		}
		all.Items = append(all.Items, page.Items...)
		all.NextCursor = page.NextCursor
		if page.NextCursor == "" || (max > 0 && len(all.Items) >= max) {
			return all, nil
		}
		f.Cursor = page.NextCursor
	}
}

// pageSize is the largest page the API gives (SPEC §4).
const pageSize = 1000

// countIncidents counts what f selects, when b can (a klaxon too old for
// /api/v1/counts cannot).
func countIncidents(ctx context.Context, b backend, f incidents.Filter) (int, bool) {
	c, ok := b.(interface {
		CountIncidents(ctx context.Context, f incidents.Filter) (int, error)
	})
	if !ok {
		return 0, false
	}
	n, err := c.CountIncidents(ctx, f)
	return n, err == nil
}

// thousands writes n with commas: 5,004.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

var formats = "table, json, ndjson or csv"

func runIncidents(ctx context.Context, args []string, e Env) error {
	var (
		c      Config
		ff     filterFlags
		format string
		asJSON bool
		limit  int
		cursor string
	)
	fs := newFlagSet("klaxon incidents", "klaxon incidents [--status S] [--severity V] [--priority P] [--integration N] [--q TEXT] [--format table|json|ndjson|csv] [--limit N] [--cursor C]",
		"Lists incidents, worst first (severity, priority, newest), with the API's filters.\n"+
			"When --limit leaves some out it says so on stderr; --json carries \"total\" and the \"next_cursor\" to go on from with --cursor.", e.Stderr)
	commonFlags(fs, &c)
	ff.add(fs, "open")
	fs.StringVar(&format, "format", "table", "how to print: "+formats)
	fs.BoolVar(&asJSON, "json", false, "print JSON (the same as --format json)")
	fs.IntVar(&limit, "limit", 1000, "list at most `N` (0: all)")
	fs.StringVar(&cursor, "cursor", "", "go on from this `C`ursor (the next_cursor of --json)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fs, "unexpected argument %q", pos[0])
	}
	if limit < 0 {
		return usageError(fs, "--limit %d: give a number of incidents, or 0 for all", limit)
	}
	if asJSON {
		format = "json"
	}
	if !validFormat(format, "table") {
		return usageError(fs, "--format %q is not one of %s", format, formats)
	}
	f, err := ff.filter()
	if err != nil {
		return err
	}
	f.Cursor = cursor
	var (
		page    incidents.Page[*incidents.Incident]
		total   int
		counted bool
	)
	err = withBackend(ctx, c, func(b backend) (err error) {
		page, err = listUpTo(ctx, b, f, limit)
		if err != nil {
			return err
		}
		if len(page.Items) == 0 && ff.integration != "" && cursor == "" {
			if _, err := integrationNamed(ctx, b, ff.integration); err != nil {
				return err // "there is no integration named …", not "no open incidents"
			}
		}
		if page.NextCursor == "" && cursor == "" {
			total, counted = len(page.Items), true
		} else {
			total, counted = countIncidents(ctx, b, f)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if page.NextCursor != "" {
		// A person reading a terminal learns what was left out; stdout stays the list.
		if counted {
			fmt.Fprintf(e.Stderr, "showing %s of %s (--limit 0 for all)\n", thousands(len(page.Items)), thousands(total))
		} else {
			fmt.Fprintf(e.Stderr, "showing the first %s; there are more (--limit 0 for all)\n", thousands(len(page.Items)))
		}
	}
	switch format {
	case "table":
		return printTable(e.Stdout, page.Items, ff.status)
	case "json":
		list := page.Items
		if list == nil {
			list = []*incidents.Incident{}
		}
		// The API's page, with the total when the klaxon could count it.
		out := struct {
			api.IncidentPage
			Total *int `json:"total,omitempty"`
		}{IncidentPage: api.IncidentPage{Incidents: list, NextCursor: page.NextCursor}}
		if counted {
			out.Total = &total
		}
		return writeJSON(e.Stdout, out, true)
	}
	return writeIncidents(e.Stdout, format, page.Items)
}

func validFormat(format string, extra ...string) bool {
	for _, f := range append([]string{"json", "ndjson", "csv"}, extra...) {
		if format == f {
			return true
		}
	}
	return false
}

func printTable(w io.Writer, list []*incidents.Incident, status string) error {
	if len(list) == 0 {
		fmt.Fprintf(w, "no %s incidents\n", status)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEV\tPRIO\tSTATUS\tREPEATS\tLAST SEEN\tINTEGRATION\tTITLE")
	now := time.Now()
	for _, in := range list {
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t×%d\t%s ago\t%s\t%s\n", in.ID, orDash(string(in.Severity)), orDash(string(in.Priority)),
			in.Status, in.Suppressed, Age(now.Sub(in.LastSeen)), termtext.Visible(in.Integration), termtext.Visible(cut(orDash(in.Title), 80)))
	}
	return tw.Flush()
}

// writeIncidents prints incidents as JSON ({"incidents":[…]}), NDJSON (one
// incident a line) or CSV (a header, then one row an incident; with
// timelines, one row a timeline entry).
//
// Whatever a terminal may show is inert: JSON escapes control, bidi and
// zero-width characters as \u… (termtext.JSON; it decodes to the same
// values), and CSV shows them as symbols (termtext.Cell: ␛, ⟨U+200B⟩).
func writeIncidents(w io.Writer, format string, list []*incidents.Incident) error {
	if list == nil {
		list = []*incidents.Incident{}
	}
	switch format {
	case "json":
		return writeJSON(w, map[string]any{"incidents": list}, true)
	case "ndjson":
		for _, in := range list {
			if err := writeJSON(w, in, false); err != nil {
				return err
			}
		}
		return nil
	}
	cw := csv.NewWriter(w)
	header := []string{"id", "integration", "service", "title", "severity", "priority", "status", "suppressed",
		"first_seen", "last_seen", "acknowledged_at", "resolved_at", "resolved_by", "details"}
	withTimeline := false
	for _, in := range list {
		if len(in.Timeline) > 0 {
			withTimeline = true
		}
	}
	if withTimeline {
		header = append(header, "entry_at", "entry_kind", "entry_by", "entry_from", "entry_to")
	}
	cw.Write(header)
	for _, in := range list {
		row := []string{strconv.FormatInt(in.ID, 10), csvText(in.Integration), csvText(in.Service), csvText(in.Title), string(in.Severity), string(in.Priority),
			string(in.Status), strconv.FormatInt(in.Suppressed, 10), incidents.FormatTime(in.FirstSeen), incidents.FormatTime(in.LastSeen),
			timeOrEmpty(in.AcknowledgedAt), timeOrEmpty(in.ResolvedAt), string(in.ResolvedBy), csvDetails(in.Details)}
		if !withTimeline {
			cw.Write(row)
			continue
		}
		for _, entry := range in.Timeline {
			cw.Write(append(row, incidents.FormatTime(entry.At), string(entry.Kind), csvText(string(entry.By)), csvText(entry.From), csvText(entry.To)))
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeJSON writes v as JSON (indented or on one line) with whatever a
// terminal would act on or hide escaped.
func writeJSON(w io.Writer, v any, indent bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(termtext.JSON(buf.Bytes()))
	return err
}

// csvDetails is the details as text: a JSON string as itself, else its JSON.
func csvDetails(d json.RawMessage) string {
	var s string
	if json.Unmarshal(d, &s) != nil {
		s = string(d)
		if s == "null" {
			s = ""
		}
	}
	return csvText(s)
}

// csvText is webhook text for a CSV cell: control, bidi and zero-width
// characters shown as symbols (termtext.Cell), and a cell starting with
// = + - @ or a tab prefixed with ' so spreadsheets show it instead of
// running it as a formula.
func csvText(s string) string {
	s = termtext.Cell(s)
	if s != "" && strings.ContainsRune("=+-@\t", rune(s[0])) {
		s = "'" + s
	}
	return s
}

func timeOrEmpty(t *time.Time) string {
	if t == nil {
		return ""
	}
	return incidents.FormatTime(*t)
}

// runExport writes incidents of a time range with their timelines.
func runExport(ctx context.Context, args []string, e Env) error {
	var (
		c            Config
		ff           filterFlags
		format       string
		since, until string
	)
	fs := newFlagSet("klaxon export", "klaxon export [--since 24h|TIME] [--until TIME] [--format json|ndjson|csv] [filters]",
		"Writes the incidents seen in a time range, every status by default, each with its timeline.", e.Stderr)
	commonFlags(fs, &c)
	ff.add(fs, "all")
	fs.StringVar(&format, "format", "json", "how to write: json, ndjson or csv (one row a timeline entry)")
	fs.StringVar(&since, "since", "", "from this time (RFC 3339, or a duration back from now such as 24h); default: the beginning")
	fs.StringVar(&until, "until", "", "to this time (RFC 3339, or a duration back from now); default: now")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fs, "unexpected argument %q", pos[0])
	}
	if !validFormat(format) {
		return usageError(fs, "--format %q is not one of json, ndjson, csv", format)
	}
	now := time.Now()
	from, err := parseWhen(since, now, time.Time{})
	if err != nil {
		return usageError(fs, "--since: %v", err)
	}
	to, err := parseWhen(until, now, now)
	if err != nil {
		return usageError(fs, "--until: %v", err)
	}
	if from.After(to) {
		return usageError(fs, "--since %s is after --until %s: the range is inverted (a duration counts back from now: --since 2h --until 1h)", since, until)
	}
	f, err := ff.filter()
	if err != nil {
		return err
	}
	return withBackend(ctx, c, func(b backend) error {
		return exportIncidents(ctx, b, f, from, to, format, e.Stdout)
	})
}

// parseWhen reads RFC 3339 or a duration back from now; empty is def.
func parseWhen(s string, now, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a time like 2026-11-27T03:00:00Z nor a duration like 24h", s)
	}
	return t, nil
}
