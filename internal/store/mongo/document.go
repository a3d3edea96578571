package mongo

import (
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// document is an event as stored: {_id, name, createdAt, jobId?}. The field
// names are the seed's and must not change; existing data uses them.
type document struct {
	ID        bson.ObjectID `bson:"_id"`
	Name      string        `bson:"name"`
	CreatedAt bson.DateTime `bson:"createdAt"`
	JobID     string        `bson:"jobId,omitempty"`
}

// toDocument converts an event that store.Prepare returned.
func toDocument(e events.Event) (document, error) {
	oid, err := store.ParseID(e.ID)
	if err != nil {
		return document{}, err
	}
	return document{ID: oid, Name: e.Name, CreatedAt: dateTime(e.CreatedAt), JobID: e.JobID}, nil
}

func (d document) event() events.Event {
	return events.Event{ID: d.ID.Hex(), Name: d.Name, CreatedAt: fromDateTime(d.CreatedAt), JobID: d.JobID}
}

// dateTime converts t, already whole milliseconds, to a BSON date, with no
// dependence on how the driver encodes time.Time.
func dateTime(t time.Time) bson.DateTime { return bson.DateTime(t.UnixMilli()) }

func fromDateTime(d bson.DateTime) time.Time { return time.UnixMilli(int64(d)).UTC() }
