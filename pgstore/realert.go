package pgstore

import (
	"context"

	"klaxon/incidents"
)

// AnnounceRealert tells the other nodes that incident id alerts again (the
// leader's notifier re-alerted it): a re-alert commits nothing, so no
// commit's notification carries it. Their Follow hands it over as a
// change of kind incidents.ChangeRealert with the incident read fresh, so
// that consoles on every node ring for it; this node's own Follow leaves it
// out, as its Service has published it already.
func (db *DB) AnnounceRealert(ctx context.Context, id int64) error {
	var n notes
	n.changed(id, "", incidents.ChangeRealert)
	_, err := db.reader.Exec(ctx, "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", db.channel, n.payloads(db.node))
	return classify(err)
}
