package storage

import (
	"context"
	"strconv"

	"klaxon/incidents"
)

// Request returns one journal entry.
func (db *DB) Request(ctx context.Context, id int64) (*incidents.Request, error) {
	// The list query with a cursor just above id reads exactly that entry.
	page, err := db.Requests(ctx, 1, idCursor(id+1))
	if err != nil {
		return nil, err
	}
	if len(page.Items) == 0 || page.Items[0].ID != id {
		return nil, incidents.Errorf(incidents.ENOTFOUND, "there is no request %s in the journal (it keeps the newest entries only)", strconv.FormatInt(id, 10))
	}
	return page.Items[0], nil
}
