package mongo

import (
	"encoding/json"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// document is an event as stored: {_id, name, createdAt, jobId?, data?}.
// The first three field names are the seed's and must not change; existing
// data uses them. Data is the event's JSON text (see the package
// documentation for why not a subdocument); documents written before events
// had data have none.
type document struct {
	ID        bson.ObjectID `bson:"_id"`
	Name      string        `bson:"name"`
	CreatedAt bson.DateTime `bson:"createdAt"`
	JobID     string        `bson:"jobId,omitempty"`
	Data      string        `bson:"data,omitempty"`
}

// toDocument converts an event that store.Prepare returned.
func toDocument(e events.Event) (document, error) {
	oid, err := store.ParseID(e.ID)
	if err != nil {
		return document{}, err
	}
	return document{ID: oid, Name: e.Name, CreatedAt: dateTime(e.CreatedAt), JobID: e.JobID, Data: string(e.Data)}, nil
}

func (d document) event() events.Event {
	e := events.Event{ID: d.ID.Hex(), Name: d.Name, CreatedAt: fromDateTime(d.CreatedAt), JobID: d.JobID}
	if d.Data != "" {
		e.Data = json.RawMessage(d.Data)
	}
	return e
}

// dateTime converts t, already whole milliseconds, to a BSON date, with no
// dependence on how the driver encodes time.Time.
func dateTime(t time.Time) bson.DateTime { return bson.DateTime(t.UnixMilli()) }

func fromDateTime(d bson.DateTime) time.Time { return time.UnixMilli(int64(d)).UTC() }
