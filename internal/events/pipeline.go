package events

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventsd/eventsd/queue"
)

// QueueName is the seed's queue, which every job type shares.
const QueueName = "mock-data-queue"

// MaxNameLen bounds an event name, in characters.
const MaxNameLen = 200

// JobOptions is the seed's policy for mock-data jobs, its row of JobTypes
// with the default retention: 3 retries (4 attempts) with exponential
// backoff 2 s, 4 s, 8 s; completed jobs removed, failed kept.
var JobOptions = jobType(JobName).Options(Retention{})

// MockData is the payload of a process-mock-data job.
type MockData struct {
	Name   string `json:"name"`
	Source string `json:"source"` // "cron" or "api"
	// Data becomes the event's data: a small JSON object made up to suit the
	// name. Jobs added before events had data have none.
	Data json.RawMessage `json:"data,omitempty"`
}

// CleanName trims a name and checks it is 1 to MaxNameLen characters of
// valid UTF-8.
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case !utf8.ValidString(name):
		return "", fmt.Errorf("name is not valid UTF-8")
	case n == 0:
		return "", ErrEmptyName
	case n > MaxNameLen:
		return "", fmt.Errorf("name is %d characters; the limit is %d", n, MaxNameLen)
	}
	return name, nil
}

// mockNames are what the mock-data generator picks from.
var mockNames = []string{
	"user.signed_up", "user.logged_in", "order.placed", "order.shipped",
	"payment.captured", "payment.refunded", "email.sent", "page.viewed",
}

func mockName() string { return mockNames[randN(len(mockNames))] }

// randN returns a random int in [0, n).
func randN(n int) int {
	r, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(r.Int64())
}

// newMockData returns a job payload: a name, and data that looks like what
// such an event would carry.
func newMockData(source string) json.RawMessage {
	name := mockName()
	var data any
	switch kind, _, _ := strings.Cut(name, "."); kind {
	case "user":
		data = map[string]any{"userId": fmt.Sprintf("user-%d", 1+randN(1000))}
	case "order":
		data = map[string]any{"orderId": fmt.Sprintf("order-%d", 1+randN(100_000)), "items": 1 + randN(5)}
	case "payment":
		data = map[string]any{"paymentId": fmt.Sprintf("pay-%d", 1+randN(100_000)),
			"amount": float64(100+randN(100_000)) / 100, "currency": "EUR"}
	case "email":
		data = map[string]any{"to": fmt.Sprintf("user-%d@example.com", 1+randN(1000)), "template": "welcome"}
	default:
		data = map[string]any{"path": fmt.Sprintf("/products/%d", 1+randN(500))}
	}
	raw, _ := json.Marshal(data)
	payload, _ := json.Marshal(MockData{Name: name, Source: source, Data: raw})
	return payload
}

// Producer adds jobs: the seed's EventsProducer. Every job it adds takes
// its options from its type's row of JobTypes.
type Producer struct {
	q   *queue.Queue
	cfg ProducerConfig
}

// ProducerConfig tunes a Producer. The zero value means the defaults.
type ProducerConfig struct {
	// Retention is what is kept of finished jobs whose type leaves it open;
	// default the seed's (completed removed, failed kept).
	Retention Retention
}

// NewProducer returns a Producer adding to q.
func NewProducer(q *queue.Queue, cfg ProducerConfig) *Producer { return &Producer{q: q, cfg: cfg} }

// options returns the options of a new job named name.
func (p *Producer) options(name string) queue.JobOptions {
	return jobType(name).Options(p.cfg.Retention)
}

// GenerateMock adds count mock-data jobs in one round trip and returns their ids.
func (p *Producer) GenerateMock(ctx context.Context, count int) ([]string, error) {
	if count < 1 || count > 1000 {
		return nil, fmt.Errorf("%w: count %d is outside 1..1000", queue.ErrInvalid, count)
	}
	jobs := make([]queue.NewJob, count)
	opts := p.options(JobName)
	for i := range jobs {
		jobs[i] = queue.NewJob{Name: JobName, Data: newMockData("api"), Options: opts}
	}
	added, err := p.q.AddBulk(ctx, jobs)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(added))
	for i, j := range added {
		ids[i] = j.ID
	}
	return ids, nil
}

// AddScheduled adds the mock-data job of one cron slot. Its id comes from the
// slot, so however many instances fire the slot, one job exists.
func (p *Producer) AddScheduled(ctx context.Context, slot time.Time) (*queue.Job, error) {
	opts := p.options(JobName)
	opts.ID = "cron-" + strconv.FormatInt(slot.UnixMilli(), 10)
	return p.q.Add(ctx, JobName, newMockData("cron"), opts)
}
