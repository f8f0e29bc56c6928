package pgstore

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"

	"klaxon/incidents"
)

// Journal records a refused request.
func (db *DB) Journal(ctx context.Context, req *incidents.Request) error {
	row, err := newJournalRow(req, req.Warnings)
	if err != nil {
		return err
	}
	return classify(db.write(ctx, need{requests: 1}, func(w *wtx) error { return db.insertRequest(w, req, row) }))
}

// journalRow holds a request's journal columns that can be worked out before
// a writer takes it.
type journalRow struct {
	headers   string
	body      string // as text can hold it
	bodyBytes []byte // the exact body when text cannot hold it; nil: body is exact
	warnings  *string
	alerts    *string
}

func newJournalRow(req *incidents.Request, warnings []string) (journalRow, error) {
	headers, err := json.Marshal(req.Headers)
	if err != nil {
		return journalRow{}, err
	}
	row := journalRow{headers: string(headers), body: cleanText(req.Body)}
	if row.body != req.Body {
		row.bodyBytes = []byte(req.Body)
	}
	if row.warnings, err = warningsValue(warnings); err != nil {
		return journalRow{}, err
	}
	row.alerts, err = alertsValue(req.Alerts)
	return row, err
}

// warningsValue is the warnings column: JSON, or NULL when there are none.
func warningsValue(warnings []string) (*string, error) {
	if len(warnings) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(warnings)
	s := string(b)
	return &s, err
}

// alertsValue is the alerts column: JSON, or NULL when there are none.
func alertsValue(alerts []incidents.AlertOutcome) (*string, error) {
	if len(alerts) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(alerts)
	s := string(b)
	return &s, err
}

// insertRequest queues the adding of req to the journal; after the commit,
// the writer drops what fell off the journal's end (pruneJournal).
func (db *DB) insertRequest(w *wtx, req *incidents.Request, row journalRow) error {
	var incident *int64
	if req.Incident != 0 {
		incident = &req.Incident
	}
	id, err := w.nextID(&w.requestIDs, requestSeq)
	if err != nil {
		return err
	}
	req.ID = id
	w.queue(`INSERT INTO requests (id, at, remote, method, path, integration, headers, body, body_bytes, truncated,
		status, outcome, error, warnings, incident_id, response, kind, alerts)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		req.ID, req.At.UnixMilli(), cleanText(req.Remote), cleanText(req.Method), cleanText(req.Path),
		nullString(cleanText(req.Integration)), row.headers, row.body, row.bodyBytes, req.Truncated, req.Status, string(req.Outcome),
		nullString(cleanText(req.Error)), row.warnings, incident, cleanText(string(req.Response)),
		nullString(string(req.Kind)), row.alerts)
	w.notes.request(req.ID)
	return nil
}

// newestBoundSQL is the id below which journal entries are past the
// journal's limit ($n: JournalLimit): the lists show the newest JournalLimit
// of the whole database only, whatever pruning has not dropped yet.
func newestBoundSQL(n string) string {
	return `coalesce((SELECT id FROM requests ORDER BY id DESC OFFSET ` + n + ` LIMIT 1), 0)`
}

// Requests lists the journal, newest first: its newest JournalLimit entries.
func (db *DB) Requests(ctx context.Context, limit int, cursor string) (incidents.Page[*incidents.Request], error) {
	var page incidents.Page[*incidents.Request]
	before, err := readIDCursor(cursor)
	if err != nil {
		return page, err
	}
	limit = clampLimit(limit)
	rows, err := db.reader.Query(ctx, `SELECT `+requestColumns+`
		FROM requests WHERE id < $1 AND id > `+newestBoundSQL("$2")+`
		ORDER BY id DESC LIMIT $3`, before, db.opts.JournalLimit, limit+1)
	if err != nil {
		return page, classify(err)
	}
	defer rows.Close()
	page.Items = []*incidents.Request{}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return page, err
		}
		if len(page.Items) == limit {
			page.NextCursor = idCursor(page.Items[limit-1].ID)
			break
		}
		page.Items = append(page.Items, r)
	}
	return page, rows.Err()
}

const requestColumns = `id, at, remote, method, path, integration, headers, body, body_bytes,
	truncated, status, outcome, error, warnings, incident_id, response, kind, alerts`

func scanRequest(row pgx.Row) (*incidents.Request, error) {
	var (
		r                        incidents.Request
		at                       int64
		outcome                  string
		integ, errText, warnings *string
		kind, alerts             *string
		incident                 *int64
		headers, response        string
		bodyBytes                []byte
	)
	if err := row.Scan(&r.ID, &at, &r.Remote, &r.Method, &r.Path, &integ, &headers, &r.Body, &bodyBytes, &r.Truncated,
		&r.Status, &outcome, &errText, &warnings, &incident, &response, &kind, &alerts); err != nil {
		return nil, err
	}
	r.At, r.Integration, r.Error, r.Outcome = fromMillis(at), deref(integ), deref(errText), incidents.Outcome(outcome)
	if bodyBytes != nil {
		r.Body = string(bodyBytes) // exactly what arrived; body held it as text can
	}
	if incident != nil {
		r.Incident = *incident
	}
	_ = json.Unmarshal([]byte(headers), &r.Headers)
	if warnings != nil {
		_ = json.Unmarshal([]byte(*warnings), &r.Warnings)
	}
	r.Response = json.RawMessage(response)
	r.Kind = incidents.Kind(deref(kind))
	if alerts != nil {
		_ = json.Unmarshal([]byte(*alerts), &r.Alerts)
	}
	return &r, nil
}

// requestsByID reads journal entries by id, oldest first; ids that are
// gone are left out.
func (db *DB) requestsByID(ctx context.Context, ids []int64) ([]*incidents.Request, error) {
	rows, err := db.reader.Query(ctx, `SELECT `+requestColumns+` FROM requests WHERE id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*incidents.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Request returns one journal entry.
func (db *DB) Request(ctx context.Context, id int64) (*incidents.Request, error) {
	page, err := db.Requests(ctx, 1, idCursor(id+1))
	if err != nil {
		return nil, err
	}
	if len(page.Items) == 0 || page.Items[0].ID != id {
		return nil, incidents.Errorf(incidents.ENOTFOUND, "there is no request %s in the journal (it keeps the newest entries only)", strconv.FormatInt(id, 10))
	}
	return page.Items[0], nil
}

// CountRequests counts the entries of the request journal (its newest
// JournalLimit, as Requests lists them).
func (db *DB) CountRequests(ctx context.Context) (int, error) {
	var n int
	err := db.reader.QueryRow(ctx, `SELECT count(*) FROM requests WHERE id > `+newestBoundSQL("$1"), db.opts.JournalLimit).Scan(&n)
	return n, classify(err)
}

// journalState is how far this node knows the journal to be pruned.
type journalState struct {
	mu     sync.Mutex
	marked int64 // the journal's newest id less its limit, when this node last pruned (or saw another node prune)
}

// pruneStep is how many entries past its limit the journal drops at once:
// the lists show the newest JournalLimit only, so between steps the table
// holds up to pruneStep more.
func (db *DB) pruneStep() int64 {
	return int64(min(max(db.opts.JournalLimit/16, 1), 256))
}

// pruneJournal drops the journal entries that fell off its end, once the
// journal (whose newest entry is top) has grown by a step since the last
// time: in its own small transaction after a batch's commit, by one node at
// a time (the others skip it). A failure only delays it.
func (db *DB) pruneJournal(top int64) {
	db.journal.mu.Lock()
	defer db.journal.mu.Unlock()
	mark := top - int64(db.opts.JournalLimit)
	if mark-db.journal.marked < db.pruneStep() {
		return
	}
	db.journal.marked = mark
	ctx, cancel := context.WithTimeout(context.Background(), db.opts.WriteTimeout)
	defer cancel()
	tx, err := db.writer.BeginTx(ctx, readCommitted)
	if err != nil {
		return
	}
	defer tx.Rollback(context.Background())
	var mine bool
	if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", db.lockID("journal")).Scan(&mine); err != nil || !mine {
		return // another node prunes it now
	}
	if _, err := tx.Exec(ctx, `DELETE FROM requests WHERE id <= `+newestBoundSQL("$1"), db.opts.JournalLimit); err != nil {
		return
	}
	_ = tx.Commit(ctx)
}
