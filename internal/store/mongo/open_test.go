package mongo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/ferrettest"
	"github.com/eventsd/eventsd/internal/store/mongo"
	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// returnsWithin runs fn and fails t if it has not returned within limit: a
// hang detector with a generous bound, not a speed test.
func returnsWithin(t *testing.T, limit time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("still waiting after %v: the call ignores its deadline", limit)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	uri := "mongodb://eventsd:s3cret@" + closedPort(t) + "/events"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var err error
	returnsWithin(t, 30*time.Second, func() {
		_, err = mongo.Open(ctx, uri, mongo.Config{})
	})
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if !strings.HasPrefix(err.Error(), "mongo: ping: ") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error %q; want it to say the ping failed and why", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %q shows the password", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %q; want it to wrap context.DeadlineExceeded", err)
	}
	t.Logf("Open of an unreachable server: %v", err)
}

// TestOpenUnreachableNoDeadline gives Open a context without a deadline:
// the store's own op timeout must bound it.
func TestOpenUnreachableNoDeadline(t *testing.T) {
	t.Parallel()
	var err error
	returnsWithin(t, 30*time.Second, func() {
		_, err = mongo.Open(context.Background(), "mongodb://"+closedPort(t), mongo.Config{OpTimeout: time.Second})
	})
	if err == nil || !strings.HasPrefix(err.Error(), "mongo: ping: ") {
		t.Fatalf("Open: err = %v; want a ping error", err)
	}
}

// TestServerGoesAway stops the server under an open store: calls fail with
// an error that names the operation, within the op timeout, and the store
// can still be closed.
func TestServerGoesAway(t *testing.T) {
	t.Parallel()
	srv := ferrettest.Start(t)
	// Open's own deadline, not the op timeout, bounds the migrations, which
	// a loaded machine may take longer than 500 ms over.
	openCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := mongo.Open(openCtx, srv.URI("events"), mongo.Config{OpTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Create(context.Background(), events.Event{Name: "before"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	for _, call := range []struct {
		op string
		fn func() error
	}{
		{"get event", func() error { _, err := s.Get(context.Background(), e.ID); return err }},
		{"insert event", func() error { _, err := s.Create(context.Background(), events.Event{Name: "after"}); return err }},
		{"insert events", func() error {
			_, err := s.CreateMany(context.Background(), []events.Event{{Name: "after"}})
			return err
		}},
		{"list events", func() error { _, err := s.List(context.Background(), events.ListQuery{}); return err }},
		{"ping", func() error { return s.Ping(context.Background()) }},
	} {
		var err error
		returnsWithin(t, 30*time.Second, func() { err = call.fn() })
		if err == nil || !strings.HasPrefix(err.Error(), "mongo: "+call.op+": ") {
			t.Errorf("%s with the server gone: err = %v; want an error starting with %q", call.op, err, "mongo: "+call.op+": ")
		}
	}
	returnsWithin(t, 30*time.Second, func() { s.Close() })
}

func TestOpenBadURI(t *testing.T) {
	t.Parallel()
	for _, uri := range []string{"", "http://example.com", "mongodb://u:s3cret@host:notaport/db", "mongodb://u:s3cret@h/db?w=bogus&journal=maybe"} {
		_, err := mongo.Open(context.Background(), uri, mongo.Config{})
		if err == nil {
			t.Errorf("Open(%q) succeeded; want an error", uri)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): error %q shows the password", uri, err)
		}
	}
}

func TestDatabaseName(t *testing.T) {
	t.Parallel()
	srv := ferrettest.Start(t)
	for _, tc := range []struct {
		uri  string
		cfg  mongo.Config
		want string
	}{
		{srv.URI(""), mongo.Config{}, "events"},
		{srv.URI("shop"), mongo.Config{}, "shop"},
		{srv.URI("shop") + "?appName=x", mongo.Config{}, "shop"},
		{srv.URI("shop"), mongo.Config{Database: "other"}, "other"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // as openTest
		s, err := mongo.Open(ctx, tc.uri, tc.cfg)
		cancel()
		if err != nil {
			t.Fatalf("Open(%s): %v", tc.uri, err)
		}
		got := s.Database()
		s.Close()
		if got != tc.want {
			t.Errorf("Open(%s, %+v).Database() = %q; want %q", tc.uri, tc.cfg, got, tc.want)
		}
	}
}

// TestDocumentShape pins the stored documents to the seed's schema, which
// other tools and existing data rely on, and reads a document written the
// way the seed's Mongoose did (with its __v field).
func TestDocumentShape(t *testing.T) {
	t.Parallel()
	uri := ferrettest.URI(t)
	s := openURI(t, uri, mongo.Config{})
	ctx := context.Background()
	plain, err := s.Create(ctx, events.Event{Name: "plain", CreatedAt: time.UnixMilli(1_700_000_000_123)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, events.Event{Name: "job", JobID: "job-1"}); err != nil {
		t.Fatal(err)
	}
	coll := rawCollection(t, uri)
	var raw bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "name", Value: "plain"}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	oid, _ := bson.ObjectIDFromHex(plain.ID)
	want := bson.M{"_id": oid, "name": "plain", "createdAt": bson.DateTime(1_700_000_000_123)}
	if len(raw) != len(want) || raw["_id"] != want["_id"] || raw["name"] != want["name"] || raw["createdAt"] != want["createdAt"] {
		t.Fatalf("stored document %v; want %v (no jobId field when there is none)", raw, want)
	}
	raw = nil
	if err := coll.FindOne(ctx, bson.D{{Key: "name", Value: "job"}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if raw["jobId"] != "job-1" {
		t.Fatalf("stored document %v; want jobId job-1", raw)
	}

	seedID := bson.NewObjectID()
	if _, err := coll.InsertOne(ctx, bson.D{
		{Key: "_id", Value: seedID}, {Key: "name", Value: "from the seed"},
		{Key: "createdAt", Value: bson.DateTime(1_600_000_000_000)}, {Key: "__v", Value: 0},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, seedID.Hex())
	if err != nil {
		t.Fatalf("Get of a seed document: %v", err)
	}
	if got.Name != "from the seed" || !got.CreatedAt.Equal(time.UnixMilli(1_600_000_000_000)) || got.JobID != "" {
		t.Fatalf("seed document read as %+v", got)
	}
}

// TestIndexes checks the indexes Open creates, and that opening again, as
// every restart does, is harmless.
func TestIndexes(t *testing.T) {
	t.Parallel()
	uri := ferrettest.URI(t)
	openURI(t, uri, mongo.Config{})
	openURI(t, uri, mongo.Config{})
	cur, err := rawCollection(t, uri).Indexes().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var specs []struct {
		Key    bson.D `bson:"key"`
		Unique bool   `bson:"unique"`
	}
	if err := cur.All(context.Background(), &specs); err != nil {
		t.Fatal(err)
	}
	got := make(map[string]bool) // keys → unique
	for _, sp := range specs {
		var keys []string
		for _, k := range sp.Key {
			keys = append(keys, fmt.Sprintf("%s:%v", k.Key, k.Value))
		}
		got[strings.Join(keys, ",")] = sp.Unique
	}
	for keys, unique := range map[string]bool{
		"createdAt:-1,_id:-1":        false,
		"name:1,createdAt:-1,_id:-1": false,
		"jobId:1":                    true,
	} {
		u, ok := got[keys]
		if !ok || u != unique {
			t.Errorf("index {%s} unique=%v: missing or different in %v", keys, unique, got)
		}
	}
}

func openURI(t *testing.T, uri string, cfg mongo.Config) *mongo.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // as openTest
	defer cancel()
	s, err := mongo.Open(ctx, uri, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawCollection returns the events collection of uri's database through
// the driver, to look at what the store wrote.
func rawCollection(t *testing.T, uri string) *driver.Collection {
	t.Helper()
	c, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	db := uri[strings.LastIndex(uri, "/")+1:]
	return c.Database(db).Collection("events")
}

// TestDataIsText pins how data is stored: its JSON text in a string field,
// absent when there is none, so that keys MongoDB refuses as field names
// are kept.
func TestDataIsText(t *testing.T) {
	t.Parallel()
	uri := ferrettest.URI(t)
	s := openURI(t, uri, mongo.Config{})
	ctx := context.Background()
	data := `{"http.method":"GET","$ref":1,"":true}`
	e, err := s.Create(ctx, events.Event{Name: "with data", Data: json.RawMessage(data)})
	if err != nil {
		t.Fatal(err)
	}
	var raw bson.M
	if err := rawCollection(t, uri).FindOne(ctx, bson.D{{Key: "name", Value: "with data"}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if raw["data"] != data {
		t.Fatalf("stored data %#v; want the string %s", raw["data"], data)
	}
	if got, err := s.Get(ctx, e.ID); err != nil || string(got.Data) != data {
		t.Fatalf("Get = %+v, %v; want data %s", got, err, data)
	}
}

// TestSchemaVersions opens a database as a release before schema versions
// left it (events and indexes, no record), then checks the recorded
// version, that opening again changes nothing, and that a database a newer
// release wrote is refused.
func TestSchemaVersions(t *testing.T) {
	t.Parallel()
	uri := ferrettest.URI(t)
	ctx := context.Background()
	old := bson.NewObjectID()
	if _, err := rawCollection(t, uri).InsertOne(ctx, bson.D{
		{Key: "_id", Value: old}, {Key: "name", Value: "before versions"},
		{Key: "createdAt", Value: bson.DateTime(1_600_000_000_000)}, {Key: "jobId", Value: "job-old"},
	}); err != nil {
		t.Fatal(err)
	}
	s := openURI(t, uri, mongo.Config{})
	got, err := s.Get(ctx, old.Hex())
	if err != nil || got.Name != "before versions" || got.JobID != "job-old" || got.Data != nil {
		t.Fatalf("old event read as %+v, %v", got, err)
	}
	versions := rawCollection(t, uri).Database().Collection("eventsd_migrations")
	version := func() int {
		var rec struct {
			Version int `bson:"version"`
		}
		if err := versions.FindOne(ctx, bson.D{{Key: "_id", Value: "events"}}).Decode(&rec); err != nil {
			t.Fatal(err)
		}
		return rec.Version
	}
	if v := version(); v != 3 {
		t.Fatalf("recorded version %d; want 3", v)
	}
	openURI(t, uri, mongo.Config{})
	if v := version(); v != 3 {
		t.Fatalf("recorded version after a second Open %d; want 3", v)
	}
	if _, err := versions.UpdateOne(ctx, bson.D{{Key: "_id", Value: "events"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: 99}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = mongo.Open(ctx, uri, mongo.Config{})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a database from a newer release: err = %v; want a schema-version error", err)
	}
}

// TestOldAttemptHasNoJob reads a delivery attempt stored before attempts
// named their job (no jobId or jobQueue field) as one without a job, with
// no migration; recording it again (its job run twice) fills them in.
func TestOldAttemptHasNoJob(t *testing.T) {
	t.Parallel()
	uri := ferrettest.URI(t)
	s := openURI(t, uri, mongo.Config{})
	ctx := context.Background()
	hook, err := s.CreateWebhook(ctx, events.Webhook{URL: "https://example.com/", Events: []string{"*"}, Secret: "whsec_c2VjcmV0", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	id, event := bson.NewObjectID(), events.NewID()
	attempts := rawCollection(t, uri).Database().Collection("events_webhook_attempts")
	if _, err := attempts.InsertOne(ctx, bson.D{
		{Key: "_id", Value: id}, {Key: "webhookId", Value: hook.ID}, {Key: "deliveryId", Value: "msg_old"},
		{Key: "eventId", Value: event}, {Key: "eventName", Value: "user.created"}, {Key: "attempt", Value: 1},
		{Key: "outcome", Value: events.OutcomeDelivered}, {Key: "statusCode", Value: 200}, {Key: "durationMs", Value: int64(12)},
		{Key: "error", Value: ""}, {Key: "response", Value: "ok"}, {Key: "nextRetryAt", Value: nil},
		{Key: "createdAt", Value: bson.DateTime(1_700_000_000_123)},
	}); err != nil {
		t.Fatal(err)
	}
	p, err := s.ListDeliveryAttempts(ctx, events.DeliveryQuery{WebhookID: hook.ID})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("attempts: %+v, %v; want the old one", p.Items, err)
	}
	old := p.Items[0]
	if old.ID != id.Hex() || old.EventID != event || old.StatusCode != 200 || old.Response != "ok" ||
		old.JobID != "" || old.JobQueue != "" {
		t.Fatalf("old attempt read as %+v; want it as stored, without a job", old)
	}
	old.JobID, old.JobQueue = "webhook-job", "webhooks"
	again, err := s.AddDeliveryAttempt(ctx, old)
	if err != nil || again.ID != id.Hex() || again.JobID != "webhook-job" || again.JobQueue != "webhooks" {
		t.Fatalf("old attempt recorded again = %+v, %v; want its id with the job", again, err)
	}
}
