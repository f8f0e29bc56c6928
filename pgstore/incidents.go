package pgstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"klaxon/incidents"
)

const incidentColumns = `i.id, g.name, g.service, i.dedup_key, i.title, i.details, i.severity, i.priority,
	i.status, i.suppressed, i.first_seen, i.last_seen, i.acknowledged_at, i.resolved_at, i.resolved_by,
	i.storm_start, i.storm_count, i.storm_until`

const incidentFrom = ` FROM incidents i JOIN integrations g ON g.id = i.integration_id `

// scanIncident reads incidentColumns, then extra.
func scanIncident(row pgx.Row, extra ...any) (*incidents.Incident, error) {
	var (
		in                                incidents.Incident
		key, details, sev, prio, resolvBy *string
		status                            string
		first, last                       int64
		acked, resolved                   *int64
		stormStart, stormUntil            int64
	)
	dest := append([]any{&in.ID, &in.Integration, &in.Service, &key, &in.Title, &details, &sev, &prio,
		&status, &in.Suppressed, &first, &last, &acked, &resolved, &resolvBy,
		&stormStart, &in.Storm.Count, &stormUntil}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	in.Key = deref(key)
	if details != nil {
		in.Details = json.RawMessage(*details)
	}
	in.Severity, in.Priority = incidents.Severity(deref(sev)), incidents.Priority(deref(prio))
	in.Status = incidents.Status(status)
	in.FirstSeen, in.LastSeen = fromMillis(first), fromMillis(last)
	in.AcknowledgedAt, in.ResolvedAt = fromNullMillis(acked), fromNullMillis(resolved)
	in.ResolvedBy = incidents.Actor(deref(resolvBy))
	in.Storm.Start, in.Storm.Until = fromStormMillis(stormStart), fromStormMillis(stormUntil)
	return &in, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullMillis(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := fromMillis(*ms)
	return &t
}

func nullMillis(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

// stormMillis stores a storm time: 0 for none.
func stormMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromStormMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMillis(ms)
}

// Ingest applies ev (SPEC §2) and journals req in one transaction.
func (db *DB) Ingest(ctx context.Context, integ *incidents.Integration, ev incidents.Event, req *incidents.Request) (incidents.IngestResult, error) {
	res, err := db.IngestAll(ctx, integ, []incidents.Event{ev}, req, nil)
	if err != nil {
		return incidents.IngestResult{}, err
	}
	return res[0], nil
}

// IngestAll applies evs in order and journals req, all in one transaction:
// a request of several alerts is stored whole or not at all. answer builds
// the status and body the sender gets (nil: SPEC §2's answer to one event);
// the journal holds them.
func (db *DB) IngestAll(ctx context.Context, integ *incidents.Integration, evs []incidents.Event, req *incidents.Request, answer incidents.Answer) ([]incidents.IngestResult, error) {
	own := append([]string(nil), req.Warnings...) // the request's own
	row, err := newJournalRow(req, nil)
	if err != nil {
		return nil, err
	}
	// PostgreSQL's text holds no NUL and only valid UTF-8: keys and titles
	// are stored (and so matched) with those replaced.
	evs = append([]incidents.Event(nil), evs...)
	n := need{entries: len(evs), requests: 1}
	integID := strconv.FormatInt(integ.ID, 10)
	for i := range evs {
		ev := &evs[i]
		ev.Key, ev.Title = cleanText(ev.Key), cleanText(ev.Title)
		ev.Details, ev.Raw = cleanJSON(ev.Details), cleanJSON(ev.Raw)
		trigger := ev.Action != incidents.Resolve && ev.Action != incidents.Acknowledge
		switch {
		case ev.Key != "":
			k := openKey{integ.ID, ev.Key}
			n.locks = append(n.locks, db.lockID("key", integID, ev.Key))
			n.keys = append(n.keys, k)
			if trigger {
				n.triggers = append(n.triggers, k)
			}
		case trigger:
			n.keyless++
		}
	}
	results := make([]incidents.IngestResult, len(evs))
	err = db.write(ctx, n, func(w *wtx) error {
		for i, ev := range evs {
			res, err := db.ingestOne(w, integ, ev, req.At)
			if err != nil {
				return err
			}
			results[i] = res
		}
		err := incidents.Record(req, own, evs, results, answer)
		if err != nil {
			return err
		}
		if row.alerts, err = alertsValue(req.Alerts); err != nil {
			return err
		}
		if row.warnings, err = warningsValue(req.Warnings); err != nil {
			return err
		}
		return db.insertRequest(w, req, row)
	})
	if err != nil {
		return nil, classify(err)
	}
	return results, nil
}

// openColumns are what a write reads of an open incident.
const openColumns = `id, title, details, severity, priority, status, suppressed, first_seen, last_seen,
	acknowledged_at, resolved_at, resolved_by, suppressed_kept_to, suppressed_rows, storm_start, storm_count, storm_until`

// prefetchSQL reads and locks the open incidents of a batch's dedup keys
// ($1 the integrations, $2 the keys), in id order. Locked, they stay as
// read until the batch commits: a repeat on another node waits, then reads
// what this one wrote, so counters stay exact. One resolved while this
// waited for its lock is left out (PostgreSQL checks the row again).
const prefetchSQL = `SELECT ` + openColumns + `, integration_id, dedup_key FROM incidents
	WHERE status <> 'resolved' AND dedup_key IS NOT NULL
	AND (integration_id, dedup_key) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))
	ORDER BY id FOR UPDATE`

// openIncidentSQL is prefetchSQL for one key.
const openIncidentSQL = `SELECT ` + openColumns + ` FROM incidents
	WHERE integration_id = $1 AND dedup_key = $2 AND status <> 'resolved' FOR UPDATE`

// scanOpenRow reads openColumns, then extra.
func scanOpenRow(row pgx.Row, extra ...any) (*openRow, error) {
	var (
		r                                 openRow
		details, sev, prio, resolvBy      *string
		status                            string
		first, last                       int64
		acked, resolved, keptTo, keptRows *int64
		stormStart, stormUntil            int64
	)
	in := &r.in
	dest := append([]any{&in.ID, &in.Title, &details, &sev, &prio, &status,
		&in.Suppressed, &first, &last, &acked, &resolved, &resolvBy, &keptTo, &keptRows,
		&stormStart, &in.Storm.Count, &stormUntil}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if details != nil {
		in.Details = json.RawMessage(*details)
	}
	in.Severity, in.Priority, in.Status = incidents.Severity(deref(sev)), incidents.Priority(deref(prio)), incidents.Status(status)
	in.FirstSeen, in.LastSeen = fromMillis(first), fromMillis(last)
	in.AcknowledgedAt, in.ResolvedAt = fromNullMillis(acked), fromNullMillis(resolved)
	in.ResolvedBy = incidents.Actor(deref(resolvBy))
	in.Storm.Start, in.Storm.Until = fromStormMillis(stormStart), fromStormMillis(stormUntil)
	r.kept = keptSuppressed{rows: -1}
	if keptTo != nil {
		r.kept.to = *keptTo
	}
	if keptRows != nil {
		r.kept.rows = *keptRows
	}
	return &r, nil
}

// openIncident is the open incident with key k as the batch has it (nil
// when none is open), locked: what the batch read for it, or what the
// batch's jobs made of it since.
func (w *wtx) openIncident(k openKey) (*openRow, error) {
	if row, ok := w.open[k]; ok {
		return row, nil
	}
	// Not read with the batch (an action changed it since): read it now.
	row, err := scanOpenRow(w.queryRow(openIncidentSQL, k.integ, k.key))
	if errors.Is(err, pgx.ErrNoRows) {
		row, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	w.setOpen(k, row)
	return row, nil
}

// ingestOne applies one event in the batch's transaction.
func (db *DB) ingestOne(w *wtx, integ *incidents.Integration, ev incidents.Event, at time.Time) (incidents.IngestResult, error) {
	res := incidents.IngestResult{Warnings: ev.Warnings}
	k := openKey{integ.ID, ev.Key}
	var (
		open *incidents.Incident
		kept = keptSuppressed{rows: -1}
	)
	if ev.Key != "" {
		row, err := w.openIncident(k)
		if err != nil {
			return res, err
		}
		if row != nil {
			in := row.in
			in.Integration, in.Service, in.Key = integ.Name, integ.Service, ev.Key
			open, kept = &in, row.kept
		}
	}
	outcome, in, entries := incidents.Apply(ev, open, integ, at)
	res.Outcome, res.Incident = outcome, in
	switch outcome {
	case incidents.Ignored:
		res.Warnings = append(res.Warnings[:len(res.Warnings):len(res.Warnings)], incidents.IgnoredReason(ev, open))
		return res, nil
	case incidents.Created:
		id, err := w.nextID(&w.incidentIDs, incidentSeq)
		if err != nil {
			return res, err
		}
		in.ID = id
		w.queue(`INSERT INTO incidents (id, integration_id, dedup_key, title, details, severity, priority,
			status, suppressed, first_seen, last_seen, suppressed_rows) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, 0)`,
			in.ID, integ.ID, nullString(in.Key), in.Title, nullJSON(in.Details), nullString(string(in.Severity)),
			nullString(string(in.Priority)), string(in.Status), in.FirstSeen.UnixMilli(), in.LastSeen.UnixMilli())
		if err := w.insertEntries(in, entries, true); err != nil {
			return res, err
		}
		if in.Key != "" {
			w.setOpen(k, &openRow{in: *in, kept: keptSuppressed{rows: 0}})
		}
	case incidents.Folded:
		if err := w.insertEntries(in, entries, true); err != nil {
			return res, err
		}
		kept, err := db.foldIncident(w, in, entries, kept)
		if err != nil {
			return res, err
		}
		w.setOpen(k, &openRow{in: *in, kept: kept})
	case incidents.ResolvedBy, incidents.AckedBy:
		w.updateIncident(in)
		if err := w.insertEntries(in, entries, true); err != nil {
			return res, err
		}
		if in.Status.Open() {
			w.setOpen(k, &openRow{in: *in, kept: kept})
		} else {
			w.setOpen(k, nil)
		}
	}
	w.notes.incident(in.ID, outcome)
	return res, nil
}

// foldIncident writes what folding an event made of the incident (in): the
// counter, last_seen and storm, severity or priority when the event moved
// them, and the trimming of its suppressed events.
func (db *DB) foldIncident(w *wtx, in *incidents.Incident, entries []incidents.TimelineEntry, kept keptSuppressed) (keptSuppressed, error) {
	for _, e := range entries {
		if e.Kind == incidents.EntrySuppressed {
			var err error
			if kept, err = db.trimSuppressed(w, in, e.ID, kept); err != nil {
				return kept, err
			}
		}
	}
	w.queue(`UPDATE incidents SET severity = $1, priority = $2, suppressed = $3, last_seen = $4,
		storm_start = $5, storm_count = $6, storm_until = $7, suppressed_kept_to = $8, suppressed_rows = $9 WHERE id = $10`,
		nullString(string(in.Severity)), nullString(string(in.Priority)), in.Suppressed, in.LastSeen.UnixMilli(),
		stormMillis(in.Storm.Start), in.Storm.Count, stormMillis(in.Storm.Until), kept.toValue(), kept.rowsValue(), in.ID)
	return kept, nil
}

// keptSuppressed is how an incident stands with the suppressed events it
// keeps (see trimSuppressed): to is the id of the last of the first ones kept
// (0 while unknown), rows how many it stores (-1 while unknown).
type keptSuppressed struct {
	to, rows int64
}

func (k keptSuppressed) toValue() *int64 {
	if k.to == 0 {
		return nil
	}
	return &k.to
}

func (k keptSuppressed) rowsValue() *int64 {
	if k.rows < 0 {
		return nil
	}
	return &k.rows
}

// trimSuppressed keeps the first and the newest Options.KeepSuppressed
// suppressed events of in, whose newest suppressed event (entry id newest)
// was just recorded, and returns how it stands now; as storage does. The
// incident is locked, so no other node adds to its timeline meanwhile, and
// its entries' ids grow in the order they were recorded.
func (db *DB) trimSuppressed(w *wtx, in *incidents.Incident, newest int64, kept keptSuppressed) (keptSuppressed, error) {
	if kept.rows < 0 { // not known: count once
		if err := w.queryRow(`SELECT count(*) FROM timeline WHERE incident_id = $1 AND kind = 'suppressed'`, in.ID).Scan(&kept.rows); err != nil {
			return kept, err
		}
	} else {
		kept.rows++
	}
	keep := int64(db.opts.KeepSuppressed)
	switch {
	case keep < 0:
		return kept, nil
	case kept.rows == keep:
		kept.to = newest
		return kept, nil
	case kept.rows <= 2*keep:
		return kept, nil
	case kept.to != 0 && kept.rows == 2*keep+1:
		w.queue(`DELETE FROM timeline WHERE id = (SELECT id FROM timeline
			WHERE incident_id = $1 AND id > $2 AND kind = 'suppressed' ORDER BY id LIMIT 1)`, in.ID, kept.to)
		kept.rows--
		return kept, nil
	}
	// Not known (an incident from before a limit, or a changed limit): find
	// the two ends once and drop what lies between them.
	if err := w.queryRow(`SELECT id FROM timeline WHERE incident_id = $1 AND kind = 'suppressed'
		ORDER BY id LIMIT 1 OFFSET $2`, in.ID, keep-1).Scan(&kept.to); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return kept, nil
		}
		return kept, err
	}
	var last int64
	if err := w.queryRow(`SELECT id FROM timeline WHERE incident_id = $1 AND kind = 'suppressed'
		ORDER BY id DESC LIMIT 1 OFFSET $2`, in.ID, keep-1).Scan(&last); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return kept, nil
		}
		return kept, err
	}
	dropped, err := w.exec(`DELETE FROM timeline WHERE incident_id = $1 AND kind = 'suppressed' AND id > $2 AND id < $3`,
		in.ID, kept.to, last)
	kept.rows -= dropped
	return kept, err
}

// updateIncident queues the writing of in's state.
func (w *wtx) updateIncident(in *incidents.Incident) {
	w.queue(`UPDATE incidents SET severity = $1, priority = $2, status = $3, suppressed = $4, last_seen = $5,
		acknowledged_at = $6, resolved_at = $7, resolved_by = $8, storm_start = $9, storm_count = $10, storm_until = $11
		WHERE id = $12`, nullString(string(in.Severity)), nullString(string(in.Priority)),
		string(in.Status), in.Suppressed, in.LastSeen.UnixMilli(), nullMillis(in.AcknowledgedAt),
		nullMillis(in.ResolvedAt), nullString(string(in.ResolvedBy)),
		stormMillis(in.Storm.Start), in.Storm.Count, stormMillis(in.Storm.Until), in.ID)
}

// insertEntries queues the recording of entries on in's timeline. Numbered
// from the batch's ids (pooled) they get their ids now; else when written:
// entries of an incident the batch did not lock before it drew its ids (a
// person's action, a timer) take theirs then, so that ids keep the order of
// the entries, whichever node recorded them.
func (w *wtx) insertEntries(in *incidents.Incident, entries []incidents.TimelineEntry, pooled bool) error {
	for i := range entries {
		e := &entries[i]
		if !pooled {
			w.queue(`INSERT INTO timeline (incident_id, at, kind, actor, from_value, to_value, event)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, in.ID, e.At.UnixMilli(), string(e.Kind), string(e.By),
				nullString(e.From), nullString(e.To), nullJSON(e.Event))
			continue
		}
		id, err := w.nextID(&w.timelineIDs, timelineSeq)
		if err != nil {
			return err
		}
		e.ID = id
		w.queue(`INSERT INTO timeline (id, incident_id, at, kind, actor, from_value, to_value, event)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.ID, in.ID, e.At.UnixMilli(), string(e.Kind), string(e.By),
			nullString(e.From), nullString(e.To), nullJSON(e.Event))
	}
	return nil
}

// Act applies a person's action to incident id.
func (db *DB) Act(ctx context.Context, id int64, a incidents.PersonAction, at time.Time) (*incidents.Incident, error) {
	var out *incidents.Incident
	err := db.write(ctx, need{}, func(w *wtx) error {
		in, err := scanIncident(w.queryRow(`SELECT `+incidentColumns+incidentFrom+`WHERE i.id = $1 FOR UPDATE OF i`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return incidents.Errorf(incidents.ENOTFOUND, "there is no incident #%d", id)
		}
		if err != nil {
			return err
		}
		entries, err := incidents.ApplyAction(in, a, at)
		if err != nil {
			return err
		}
		if len(entries) > 0 {
			w.forget(in.ID)
			w.updateIncident(in)
			if err := w.insertEntries(in, entries, false); err != nil {
				return err
			}
			w.notes.changed(in.ID, "", incidents.ActionKind(a.Kind))
		}
		out = in
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}
	return out, nil
}

// Incident returns incident id with its timeline.
func (db *DB) Incident(ctx context.Context, id int64) (*incidents.Incident, error) {
	in, err := scanIncident(db.reader.QueryRow(ctx, `SELECT `+incidentColumns+incidentFrom+`WHERE i.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, incidents.Errorf(incidents.ENOTFOUND, "there is no incident #%d", id)
	}
	if err != nil {
		return nil, classify(err)
	}
	rows, err := db.reader.Query(ctx, `SELECT id, at, kind, actor, from_value, to_value, event
		FROM timeline WHERE incident_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	in.Timeline = []incidents.TimelineEntry{}
	for rows.Next() {
		var (
			e              incidents.TimelineEntry
			at             int64
			kind, by       string
			from, to, body *string
		)
		if err := rows.Scan(&e.ID, &at, &kind, &by, &from, &to, &body); err != nil {
			return nil, err
		}
		e.At, e.Kind, e.By, e.From, e.To = fromMillis(at), incidents.EntryKind(kind), incidents.Actor(by), deref(from), deref(to)
		if body != nil {
			e.Event = json.RawMessage(*body)
		}
		in.Timeline = append(in.Timeline, e)
	}
	return in, rows.Err()
}

// incidentsByID reads incidents (without timelines) by id, in no order;
// ids that are gone are left out.
func (db *DB) incidentsByID(ctx context.Context, ids []int64) (map[int64]*incidents.Incident, error) {
	rows, err := db.reader.Query(ctx, `SELECT `+incidentColumns+incidentFrom+`WHERE i.id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]*incidents.Incident, len(ids))
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, err
		}
		out[in.ID] = in
	}
	return out, rows.Err()
}

// args collects a statement's arguments and names their placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// filterSQL turns f into conditions (without the cursor), adding their
// arguments to a. The statuses are ranges of the order index (is_open,
// sort_key); "all" is both, which ListIncidents merges.
func filterSQL(f incidents.Filter, a *args) ([]string, error) {
	var where []string
	switch f.Status {
	case "", "open":
		where = append(where, "i.is_open")
	case "all":
	case string(incidents.Triggered), string(incidents.Acknowledged):
		where = append(where, "i.is_open AND i.status = "+a.add(f.Status))
	case string(incidents.Resolved):
		where = append(where, "NOT i.is_open")
	default:
		return nil, incidents.Errorf(incidents.EINVALID, "status %q is not one of open, triggered, acknowledged, resolved, all", f.Status)
	}
	if f.Severity != nil {
		if *f.Severity == incidents.NoSeverity {
			where = append(where, "i.severity IS NULL")
		} else {
			where = append(where, "i.severity = "+a.add(string(*f.Severity)))
		}
	}
	if f.Priority != nil {
		if *f.Priority == incidents.NoPriority {
			where = append(where, "i.priority IS NULL")
		} else {
			where = append(where, "i.priority = "+a.add(string(*f.Priority)))
		}
	}
	if f.Integration != "" {
		where = append(where, "g.name = "+a.add(cleanText(f.Integration)))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		p := a.add(strings.ToLower(cleanText(q)))
		where = append(where, fmt.Sprintf(`(strpos(lower(i.title), %[1]s) > 0 OR strpos(lower(coalesce(i.details, '')), %[1]s) > 0 OR strpos(lower(g.name), %[1]s) > 0)`, p))
	}
	return where, nil
}

func whereSQL(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// ListIncidents returns one page of incidents in SPEC §3 order.
func (db *DB) ListIncidents(ctx context.Context, f incidents.Filter) (incidents.Page[*incidents.Incident], error) {
	var page incidents.Page[*incidents.Incident]
	limit := clampLimit(f.Limit)
	query, a, err := listQuery(f, limit)
	if err != nil {
		return page, err
	}
	rows, err := db.reader.Query(ctx, query, a...)
	if err != nil {
		return page, classify(err)
	}
	defer rows.Close()
	var lastKey string
	for rows.Next() {
		var key string
		in, err := scanIncident(rows, &key)
		if err != nil {
			return page, err
		}
		if len(page.Items) == limit {
			page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(lastKey))
			break
		}
		page.Items = append(page.Items, in)
		lastKey = key
	}
	if page.Items == nil {
		page.Items = []*incidents.Incident{}
	}
	return page, rows.Err()
}

// listQuery is the query of one page (limit rows, and one more to tell
// whether there is a next page) of the incidents f selects. Cursors are
// the sort key, as storage's, so a cursor reads alike on both backends.
func listQuery(f incidents.Filter, limit int) (string, args, error) {
	var a args
	conds, err := filterSQL(f, &a)
	if err != nil {
		return "", nil, err
	}
	if f.Cursor != "" {
		after, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || len(after) != 40 || strings.Trim(string(after), "0123456789") != "" {
			return "", nil, incidents.Errorf(incidents.EINVALID, "the cursor %q cannot be read; pass the next_cursor of the previous page, or none", f.Cursor)
		}
		conds = append(conds, "i.sort_key > "+a.add(string(after)))
	}
	lim := a.add(limit + 1)
	if f.Status != "all" {
		return `SELECT ` + incidentColumns + `, i.sort_key` + incidentFrom + whereSQL(conds) + ` ORDER BY i.sort_key LIMIT ` + lim, a, nil
	}
	// Open and resolved incidents are two ranges of the order index: read a
	// page from each, in order, and keep the first of the two.
	arm := func(open string) string {
		return `(SELECT ` + incidentColumns + `, i.sort_key AS sort_key` + incidentFrom +
			whereSQL(append([]string{open}, conds...)) + ` ORDER BY i.sort_key LIMIT ` + lim + `)`
	}
	return arm("i.is_open") + ` UNION ALL ` + arm("NOT i.is_open") + ` ORDER BY sort_key LIMIT ` + lim, a, nil
}

// CountIncidents counts what f selects.
func (db *DB) CountIncidents(ctx context.Context, f incidents.Filter) (int, error) {
	var a args
	conds, err := filterSQL(f, &a)
	if err != nil {
		return 0, err
	}
	var n int
	err = db.reader.QueryRow(ctx, `SELECT count(*)`+incidentFrom+whereSQL(conds), a...).Scan(&n)
	return n, classify(err)
}

// The API's paging rules, shared with the other store (incidents/page.go).
var (
	clampLimit   = incidents.ClampLimit
	idCursor     = incidents.IDCursor
	readIDCursor = incidents.ReadIDCursor
)

// Suppressed lists folded duplicate events, newest first.
func (db *DB) Suppressed(ctx context.Context, limit int, cursor string) (incidents.Page[incidents.SuppressedEvent], error) {
	var page incidents.Page[incidents.SuppressedEvent]
	before, err := readIDCursor(cursor)
	if err != nil {
		return page, err
	}
	limit = clampLimit(limit)
	rows, err := db.reader.Query(ctx, `SELECT t.id, t.at, t.incident_id, i.title, i.suppressed, i.status, t.event
		FROM timeline t JOIN incidents i ON i.id = t.incident_id
		WHERE t.kind = 'suppressed' AND t.id < $1 ORDER BY t.id DESC LIMIT $2`, before, limit+1)
	if err != nil {
		return page, classify(err)
	}
	defer rows.Close()
	page.Items = []incidents.SuppressedEvent{}
	for rows.Next() {
		var (
			e      incidents.SuppressedEvent
			at     int64
			status string
			event  *string
		)
		if err := rows.Scan(&e.ID, &at, &e.Incident, &e.Title, &e.Repeats, &status, &event); err != nil {
			return page, err
		}
		if len(page.Items) == limit {
			page.NextCursor = idCursor(page.Items[limit-1].ID)
			break
		}
		e.At, e.Status = fromMillis(at), incidents.Status(status)
		if event != nil {
			e.Event = json.RawMessage(*event)
		}
		page.Items = append(page.Items, e)
	}
	return page, rows.Err()
}
