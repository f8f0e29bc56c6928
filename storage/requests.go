package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"unicode/utf8"

	"klaxon/incidents"
)

// Journal records a refused request.
func (db *DB) Journal(ctx context.Context, req *incidents.Request) error {
	row, err := newJournalRow(req, req.Warnings)
	if err != nil {
		return err
	}
	return classify(db.write(ctx, func(tx *sql.Tx) error { return db.insertRequest(tx, req, row) }))
}

// journalRow holds a request's journal columns that can be worked out before
// the writer takes it: the single writer should only write.
type journalRow struct {
	headers  string
	body     any // text, or the exact bytes (a BLOB) when they are not UTF-8, so a replay sends what arrived
	warnings any
	alerts   any
}

func newJournalRow(req *incidents.Request, warnings []string) (journalRow, error) {
	headers, err := json.Marshal(req.Headers)
	if err != nil {
		return journalRow{}, err
	}
	row := journalRow{headers: string(headers), body: req.Body}
	if !utf8.ValidString(req.Body) {
		row.body = []byte(req.Body)
	}
	if row.warnings, err = warningsValue(warnings); err != nil {
		return journalRow{}, err
	}
	row.alerts, err = alertsValue(req.Alerts)
	return row, err
}

// warningsValue is the warnings column: JSON, or NULL when there are none.
func warningsValue(warnings []string) (any, error) {
	if len(warnings) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(warnings)
	return string(b), err
}

// alertsValue is the alerts column: JSON, or NULL when there are none.
func alertsValue(alerts []incidents.AlertOutcome) (any, error) {
	if len(alerts) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(alerts)
	return string(b), err
}

// insertRequest adds req to the journal; the transaction's end drops what
// falls off the journal's end (pruneJournal).
func (db *DB) insertRequest(tx *sql.Tx, req *incidents.Request, row journalRow) error {
	var incident any
	if req.Incident != 0 {
		incident = req.Incident
	}
	r, err := db.ws.exec(tx, stInsertRequest, req.At.UnixMilli(), req.Remote, req.Method, req.Path,
		nullString(req.Integration), row.headers, row.body, req.Truncated, int64(req.Status), string(req.Outcome),
		nullString(req.Error), row.warnings, incident, string(req.Response), nullString(string(req.Kind)), row.alerts)
	if err != nil {
		return err
	}
	if req.ID, err = r.LastInsertId(); err != nil {
		return err
	}
	db.ws.journalTop = max(db.ws.journalTop, req.ID)
	return nil
}

// Requests lists the journal, newest first: its newest JournalLimit entries
// (see pruneJournal).
func (db *DB) Requests(ctx context.Context, limit int, cursor string) (incidents.Page[*incidents.Request], error) {
	var page incidents.Page[*incidents.Request]
	before, err := readIDCursor(cursor)
	if err != nil {
		return page, err
	}
	limit = clampLimit(limit)
	rows, err := db.reader.QueryContext(ctx, `SELECT id, at, remote, method, path, integration, headers, body,
		truncated, status, outcome, error, warnings, incident_id, response, kind, alerts
		FROM requests WHERE id < ? AND id > (SELECT coalesce(max(id), 0) FROM requests) - ?
		ORDER BY id DESC LIMIT ?`, before, db.opts.JournalLimit, limit+1)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	page.Items = []*incidents.Request{}
	for rows.Next() {
		var (
			r                        incidents.Request
			at                       int64
			integ, errText, warnings sql.NullString
			kind, alerts             sql.NullString
			incident                 sql.NullInt64
			headers, response        string
		)
		if err := rows.Scan(&r.ID, &at, &r.Remote, &r.Method, &r.Path, &integ, &headers, &r.Body, &r.Truncated,
			&r.Status, &r.Outcome, &errText, &warnings, &incident, &response, &kind, &alerts); err != nil {
			return page, err
		}
		if len(page.Items) == limit {
			page.NextCursor = idCursor(page.Items[limit-1].ID)
			break
		}
		r.At, r.Integration, r.Error, r.Incident = fromMillis(at), integ.String, errText.String, incident.Int64
		_ = json.Unmarshal([]byte(headers), &r.Headers)
		if warnings.Valid {
			_ = json.Unmarshal([]byte(warnings.String), &r.Warnings)
		}
		r.Response = json.RawMessage(response)
		r.Kind = incidents.Kind(kind.String)
		if alerts.Valid {
			_ = json.Unmarshal([]byte(alerts.String), &r.Alerts)
		}
		page.Items = append(page.Items, &r)
	}
	return page, rows.Err()
}
