package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"klaxon/incidents"
)

// Statements in write jobs never take the caller's context: an interrupted
// statement would roll back the whole shared transaction. Callers' contexts
// only decide whether a job is started.

const incidentColumns = `i.id, g.name, g.service, i.dedup_key, i.title, i.details, i.severity, i.priority,
	i.status, i.suppressed, i.first_seen, i.last_seen, i.acknowledged_at, i.resolved_at, i.resolved_by,
	i.storm_start, i.storm_count, i.storm_until`

const incidentFrom = ` FROM incidents i JOIN integrations g ON g.id = i.integration_id `

type scanner interface{ Scan(dest ...any) error }

func scanIncident(s scanner) (*incidents.Incident, error) {
	var (
		in                      incidents.Incident
		key, details, sev, prio sql.NullString
		resolvedBy              sql.NullString
		first, last             int64
		acked, resolved         sql.NullInt64
		stormStart, stormUntil  int64
	)
	if err := s.Scan(&in.ID, &in.Integration, &in.Service, &key, &in.Title, &details, &sev, &prio,
		&in.Status, &in.Suppressed, &first, &last, &acked, &resolved, &resolvedBy,
		&stormStart, &in.Storm.Count, &stormUntil); err != nil {
		return nil, err
	}
	in.Storm.Start, in.Storm.Until = fromStormMillis(stormStart), fromStormMillis(stormUntil)
	in.Key = key.String
	if details.Valid {
		in.Details = json.RawMessage(details.String)
	}
	in.Severity = incidents.Severity(sev.String)
	in.Priority = incidents.Priority(prio.String)
	in.FirstSeen, in.LastSeen = fromMillis(first), fromMillis(last)
	in.AcknowledgedAt = fromNullMillis(acked)
	in.ResolvedAt = fromNullMillis(resolved)
	in.ResolvedBy = incidents.Actor(resolvedBy.String)
	return &in, nil
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullMillis(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMillis(v.Int64)
	return &t
}

func nullMillis(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	return string(b)
}

// Ingest applies ev (SPEC §2) and journals req in one transaction, answered
// as SPEC §2 says.
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
// the journal holds them. What can be worked out before the writer takes the
// request (the journal's columns) is, so the single writer only reads the
// open incidents and writes.
func (db *DB) IngestAll(ctx context.Context, integ *incidents.Integration, evs []incidents.Event, req *incidents.Request, answer incidents.Answer) ([]incidents.IngestResult, error) {
	own := append([]string(nil), req.Warnings...) // the request's own
	row, err := newJournalRow(req, nil)
	if err != nil {
		return nil, err
	}
	results := make([]incidents.IngestResult, len(evs))
	err = db.write(ctx, func(tx *sql.Tx) error {
		for i, ev := range evs {
			res, err := db.ingestOne(tx, integ, ev, req.At)
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
		return db.insertRequest(tx, req, row)
	})
	if err != nil {
		return nil, classify(err)
	}
	return results, nil
}

// ingestOne applies one event in the writer's transaction.
func (db *DB) ingestOne(tx *sql.Tx, integ *incidents.Integration, ev incidents.Event, at time.Time) (incidents.IngestResult, error) {
	res, err := db.applyOne(tx, integ, ev, at)
	if err == nil || ev.Key == "" || !uniqueViolation(err) {
		return res, err
	}
	// The schema holds an open incident for this key that openKeys did not
	// know (incidents_one_open_per_key refused a second one): learn it and
	// apply the event to it. Only the failed INSERT was undone.
	var id int64
	if qerr := tx.QueryRow(`SELECT id FROM incidents WHERE integration_id = ? AND dedup_key = ? AND status <> 'resolved'`,
		integ.ID, ev.Key).Scan(&id); qerr != nil {
		return res, err
	}
	db.ws.keys.add(db.ws.keys.hash(integ.Name, ev.Key), id)
	return db.applyOne(tx, integ, ev, at)
}

// applyOne applies one event, finding its open incident through openKeys.
func (db *DB) applyOne(tx *sql.Tx, integ *incidents.Integration, ev incidents.Event, at time.Time) (incidents.IngestResult, error) {
	res := incidents.IngestResult{Warnings: ev.Warnings}
	var (
		open *incidents.Incident
		kept keptSuppressed
	)
	if ev.Key != "" {
		var err error
		if open, kept, err = db.openIncident(tx, integ, ev.Key); err != nil {
			return res, err
		}
	}
	outcome, in, entries := incidents.Apply(ev, open, integ, at)
	res.Outcome, res.Incident = outcome, in
	if outcome == incidents.Ignored {
		res.Warnings = append(res.Warnings[:len(res.Warnings):len(res.Warnings)], incidents.IgnoredReason(ev, open))
	}
	switch outcome {
	case incidents.Created:
		r, err := db.ws.exec(tx, stInsertIncident, integ.ID, nullString(in.Key), in.Title, nullJSON(in.Details),
			nullString(string(in.Severity)), nullString(string(in.Priority)), string(in.Status),
			in.FirstSeen.UnixMilli(), in.LastSeen.UnixMilli())
		if err != nil {
			return res, err
		}
		if in.ID, err = r.LastInsertId(); err != nil {
			return res, err
		}
		if in.Key != "" {
			db.ws.keys.add(db.ws.keys.hash(integ.Name, in.Key), in.ID)
		}
		if err := db.insertEntries(tx, in, entries); err != nil {
			return res, err
		}
	case incidents.Folded:
		if err := db.insertEntries(tx, in, entries); err != nil {
			return res, err
		}
		if err := db.foldIncident(tx, integ.ID, open, in, entries, kept); err != nil {
			return res, err
		}
	case incidents.ResolvedBy, incidents.AckedBy:
		if err := db.updateIncident(tx, in); err != nil {
			return res, err
		}
		if err := db.insertEntries(tx, in, entries); err != nil {
			return res, err
		}
	}
	return res, nil
}

// openIncident is the open incident of integ with key (nil when none) and
// what it keeps of its suppressed events. openKeys names the candidates;
// each is checked against its row, and one that no longer matches is
// forgotten.
func (db *DB) openIncident(tx *sql.Tx, integ *incidents.Integration, key string) (*incidents.Incident, keptSuppressed, error) {
	keys := db.ws.keys
	h := keys.hash(integ.Name, key)
	first, more := keys.candidates(h)
	if first == 0 {
		return nil, keptSuppressed{}, nil
	}
	for i := -1; i < len(more); i++ {
		id := first
		if i >= 0 {
			id = more[i]
		}
		if in, kept, ok := db.ws.rows.get(id, integ.ID, key); ok {
			return in, kept, nil
		}
		row, err := db.ws.queryRow(tx, stOpenIncident, id, integ.ID, key)
		if err != nil {
			return nil, keptSuppressed{}, err
		}
		if row == nil {
			keys.remove(h, id)
			continue
		}
		kept := keptSuppressed{to: valueInt(row[12]), rows: -1}
		if row[16] != nil {
			kept.rows = valueInt(row[16])
		}
		return scanOpen(row, integ, key), kept, nil
	}
	return nil, keptSuppressed{}, nil
}

// scanOpen reads stOpenIncident's row.
func scanOpen(row []driver.Value, integ *incidents.Integration, key string) *incidents.Incident {
	in := &incidents.Incident{
		ID: valueInt(row[0]), Integration: integ.Name, Service: integ.Service, Key: key, Title: valueString(row[1]),
		Severity: incidents.Severity(valueString(row[3])), Priority: incidents.Priority(valueString(row[4])),
		Status: incidents.Status(valueString(row[5])), Suppressed: valueInt(row[6]),
		FirstSeen: fromMillis(valueInt(row[7])), LastSeen: fromMillis(valueInt(row[8])),
		AcknowledgedAt: fromNullMillis(valueNullInt(row[9])), ResolvedAt: fromNullMillis(valueNullInt(row[10])),
		ResolvedBy: incidents.Actor(valueString(row[11])),
		Storm:      incidents.Storm{Start: fromStormMillis(valueInt(row[13])), Count: valueInt(row[14]), Until: fromStormMillis(valueInt(row[15]))},
	}
	if row[2] != nil {
		in.Details = json.RawMessage(valueString(row[2]))
	}
	return in
}

// foldIncident writes what folding an event into open made of it (in): the
// counter and last_seen, severity or priority when the event moved them, and
// the trimming of its suppressed events.
func (db *DB) foldIncident(tx *sql.Tx, integration int64, open, in *incidents.Incident, entries []incidents.TimelineEntry, kept keptSuppressed) error {
	was := kept
	for _, e := range entries {
		if e.Kind == incidents.EntrySuppressed {
			var err error
			if kept, err = db.trimSuppressed(tx, in, e.ID, kept); err != nil {
				return err
			}
		}
	}
	if in.Severity != open.Severity || in.Priority != open.Priority || in.Status != open.Status {
		if err := db.updateIncident(tx, in); err != nil {
			return err
		}
		var err error
		if kept != was {
			_, err = db.ws.exec(tx, stSetKept, kept.toValue(), kept.rowsValue(), in.ID)
		}
		return err
	}
	_, err := db.ws.exec(tx, stFoldIncident, in.Suppressed, in.LastSeen.UnixMilli(), kept.toValue(), kept.rowsValue(),
		stormMillis(in.Storm.Start), in.Storm.Count, stormMillis(in.Storm.Until), in.ID)
	if err == nil {
		db.ws.rows.put(integration, in, kept)
	}
	return err
}

// keptSuppressed is how an incident stands with the suppressed events it
// keeps (see trimSuppressed): to is the id of the last of the first ones kept
// (0 while unknown), rows how many it stores (-1 while unknown).
type keptSuppressed struct {
	to, rows int64
}

func (k keptSuppressed) toValue() driver.Value {
	if k.to == 0 {
		return nil
	}
	return k.to
}

func (k keptSuppressed) rowsValue() driver.Value {
	if k.rows < 0 {
		return nil
	}
	return k.rows
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

// trimSuppressed keeps the first and the newest Options.KeepSuppressed
// suppressed events of in, whose newest suppressed event (entry id newest)
// was just recorded, and returns how it stands now. The entries after
// kept.to are the newest ones, and each one recorded beyond twice the limit
// drops the oldest of them: one index seek and one row, at the end of the
// timeline that is being deleted anyway. The suppressed counter is left
// alone: it stays exact.
func (db *DB) trimSuppressed(tx *sql.Tx, in *incidents.Incident, newest int64, kept keptSuppressed) (keptSuppressed, error) {
	if kept.rows < 0 { // an incident from before suppressed_rows: count once
		row, err := db.ws.queryRow(tx, stCountSuppressed, in.ID)
		if err != nil || row == nil {
			return kept, err
		}
		kept.rows = valueInt(row[0])
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
		_, err := db.ws.exec(tx, stDropSuppressed, in.ID, kept.to)
		kept.rows--
		return kept, err
	}
	// Not known (an incident from before the limit, or a changed limit):
	// find the two ends once and drop what lies between them.
	first, err := db.ws.queryRow(tx, stFirstSuppressed, in.ID, keep-1)
	if err != nil || first == nil {
		return kept, err
	}
	kept.to = valueInt(first[0])
	last, err := db.ws.queryRow(tx, stNewestSuppressed, in.ID, keep-1)
	if err != nil || last == nil {
		return kept, err
	}
	r, err := db.ws.exec(tx, stTrimSuppressed, in.ID, kept.to, valueInt(last[0]))
	if err != nil {
		return kept, err
	}
	dropped, err := r.RowsAffected()
	kept.rows -= dropped
	return kept, err
}

func (db *DB) updateIncident(tx *sql.Tx, in *incidents.Incident) error {
	db.ws.rows.drop(in.ID)
	if in.Status == incidents.Resolved && in.Key != "" {
		db.ws.keys.remove(db.ws.keys.hash(in.Integration, in.Key), in.ID)
	}
	_, err := db.ws.exec(tx, stUpdateIncident, nullString(string(in.Severity)), nullString(string(in.Priority)),
		string(in.Status), in.Suppressed, in.LastSeen.UnixMilli(), nullMillis(in.AcknowledgedAt),
		nullMillis(in.ResolvedAt), nullString(string(in.ResolvedBy)),
		stormMillis(in.Storm.Start), in.Storm.Count, stormMillis(in.Storm.Until), in.ID)
	return err
}

// insertEntries records entries on in's timeline.
func (db *DB) insertEntries(tx *sql.Tx, in *incidents.Incident, entries []incidents.TimelineEntry) error {
	for i := range entries {
		e := &entries[i]
		r, err := db.ws.exec(tx, stInsertEntry, in.ID, e.At.UnixMilli(), string(e.Kind), string(e.By),
			nullString(e.From), nullString(e.To), nullJSON(e.Event))
		if err != nil {
			return err
		}
		if e.ID, err = r.LastInsertId(); err != nil {
			return err
		}
	}
	return nil
}

// Act applies a person's action to incident id.
func (db *DB) Act(ctx context.Context, id int64, a incidents.PersonAction, at time.Time) (*incidents.Incident, error) {
	var out *incidents.Incident
	err := db.write(ctx, func(tx *sql.Tx) error {
		in, err := scanIncident(tx.QueryRow(`SELECT `+incidentColumns+incidentFrom+`WHERE i.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
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
			if err := db.updateIncident(tx, in); err != nil {
				return err
			}
			if err := db.insertEntries(tx, in, entries); err != nil {
				return err
			}
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
	in, err := scanIncident(db.reader.QueryRowContext(ctx, `SELECT `+incidentColumns+incidentFrom+`WHERE i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, incidents.Errorf(incidents.ENOTFOUND, "there is no incident #%d", id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT id, at, kind, actor, from_value, to_value, event
		FROM timeline WHERE incident_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	in.Timeline = []incidents.TimelineEntry{}
	for rows.Next() {
		var (
			e              incidents.TimelineEntry
			at             int64
			from, to, body sql.NullString
		)
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.By, &from, &to, &body); err != nil {
			return nil, err
		}
		e.At, e.From, e.To = fromMillis(at), from.String, to.String
		if body.Valid {
			e.Event = json.RawMessage(body.String)
		}
		in.Timeline = append(in.Timeline, e)
	}
	return in, rows.Err()
}

// filterSQL turns f into a WHERE clause (without the cursor) and its arguments.
func filterSQL(f incidents.Filter) (string, []any, error) {
	var (
		where []string
		args  []any
	)
	// The statuses are ranges of the one order index (is_open, sort_key);
	// "all" is both, which ListIncidents merges.
	switch f.Status {
	case "", "open":
		where = append(where, "i.is_open = 1")
	case "all":
	case string(incidents.Triggered), string(incidents.Acknowledged):
		where = append(where, "i.is_open = 1 AND i.status = ?")
		args = append(args, f.Status)
	case string(incidents.Resolved):
		where = append(where, "i.is_open = 0")
	default:
		return "", nil, incidents.Errorf(incidents.EINVALID, "status %q is not one of open, triggered, acknowledged, resolved, all", f.Status)
	}
	if f.Severity != nil {
		if *f.Severity == incidents.NoSeverity {
			where = append(where, "i.severity IS NULL")
		} else {
			where = append(where, "i.severity = ?")
			args = append(args, string(*f.Severity))
		}
	}
	if f.Priority != nil {
		if *f.Priority == incidents.NoPriority {
			where = append(where, "i.priority IS NULL")
		} else {
			where = append(where, "i.priority = ?")
			args = append(args, string(*f.Priority))
		}
	}
	if f.Integration != "" {
		where = append(where, "g.name = ?")
		args = append(args, f.Integration)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		where = append(where, `(instr(lower(i.title), ?) > 0 OR instr(lower(coalesce(i.details, '')), ?) > 0 OR instr(lower(g.name), ?) > 0)`)
		lq := strings.ToLower(q)
		args = append(args, lq, lq, lq)
	}
	if len(where) == 0 {
		return "", args, nil
	}
	return " WHERE " + strings.Join(where, " AND "), args, nil
}

// ListIncidents returns one page of incidents in SPEC §3 order.
func (db *DB) ListIncidents(ctx context.Context, f incidents.Filter) (incidents.Page[*incidents.Incident], error) {
	var page incidents.Page[*incidents.Incident]
	limit := clampLimit(f.Limit)
	query, args, err := listQuery(f, limit)
	if err != nil {
		return page, err
	}
	rows, err := db.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	var lastKey string
	for rows.Next() {
		var key string
		in, err := scanIncident(multiScanner{rows, &key})
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
// whether there is a next page) of the incidents f selects, and its arguments.
func listQuery(f incidents.Filter, limit int) (string, []any, error) {
	where, args, err := filterSQL(f)
	if err != nil {
		return "", nil, err
	}
	if f.Cursor != "" {
		after, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || len(after) != 40 {
			return "", nil, incidents.Errorf(incidents.EINVALID, "the cursor %q cannot be read; pass the next_cursor of the previous page, or none", f.Cursor)
		}
		if where == "" {
			where = " WHERE i.sort_key > ?"
		} else {
			where += " AND i.sort_key > ?"
		}
		args = append(args, string(after))
	}
	args = append(args, limit+1)
	if f.Status != "all" {
		return `SELECT ` + incidentColumns + `, i.sort_key` + incidentFrom + where + ` ORDER BY i.sort_key LIMIT ?`, args, nil
	}
	// Open and resolved incidents are two ranges of the order index: read a
	// page from each, in order, and keep the first of the two.
	arm := func(open string) string {
		w := " WHERE i.is_open = " + open
		if where != "" {
			w += " AND " + strings.TrimPrefix(where, " WHERE ")
		}
		return `SELECT * FROM (SELECT ` + incidentColumns + `, i.sort_key AS sort_key` + incidentFrom + w +
			` ORDER BY i.sort_key LIMIT ?)`
	}
	args = append(append(append([]any{}, args...), args...), limit+1)
	return arm("1") + ` UNION ALL ` + arm("0") + ` ORDER BY sort_key LIMIT ?`, args, nil
}

// multiScanner scans an incident's columns followed by extra ones.
type multiScanner struct {
	rows  *sql.Rows
	extra *string
}

func (m multiScanner) Scan(dest ...any) error { return m.rows.Scan(append(dest, m.extra)...) }

// CountIncidents counts what f selects.
func (db *DB) CountIncidents(ctx context.Context, f incidents.Filter) (int, error) {
	where, args, err := filterSQL(f)
	if err != nil {
		return 0, err
	}
	var n int
	err = db.reader.QueryRowContext(ctx, `SELECT count(*)`+incidentFrom+where, args...).Scan(&n)
	return n, err
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
	rows, err := db.reader.QueryContext(ctx, `SELECT t.id, t.at, t.incident_id, i.title, i.suppressed, i.status, t.event
		FROM timeline t JOIN incidents i ON i.id = t.incident_id
		WHERE t.kind = 'suppressed' AND t.id < ? ORDER BY t.id DESC LIMIT ?`, before, limit+1)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	page.Items = []incidents.SuppressedEvent{}
	for rows.Next() {
		var (
			e     incidents.SuppressedEvent
			at    int64
			event sql.NullString
		)
		if err := rows.Scan(&e.ID, &at, &e.Incident, &e.Title, &e.Repeats, &e.Status, &event); err != nil {
			return page, err
		}
		if len(page.Items) == limit {
			page.NextCursor = idCursor(page.Items[limit-1].ID)
			break
		}
		e.At = fromMillis(at)
		if event.Valid {
			e.Event = json.RawMessage(event.String)
		}
		page.Items = append(page.Items, e)
	}
	return page, rows.Err()
}
