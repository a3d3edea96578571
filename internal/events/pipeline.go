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

// The seed's queue and job names. Job names are stable strings: jobs already
// in Redis carry them.
const (
	QueueName = "mock-data-queue"
	JobName   = "process-mock-data"
)

// MaxNameLen bounds an event name, in characters.
const MaxNameLen = 200

// JobOptions is the seed's policy for mock-data jobs: 3 retries (4 attempts)
// with exponential backoff 2 s, 4 s, 8 s; completed jobs removed, failed kept.
var JobOptions = queue.JobOptions{
	Retries:          3,
	Backoff:          queue.Backoff{Type: queue.BackoffExponential, Delay: 2 * time.Second},
	RemoveOnComplete: queue.Remove,
	RemoveOnFail:     queue.Keep,
}

// MockData is the payload of a process-mock-data job.
type MockData struct {
	Name   string `json:"name"`
	Source string `json:"source"` // "cron" or "api"
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

func mockName() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(mockNames))))
	return mockNames[n.Int64()]
}

// Producer adds mock-data jobs: the seed's EventsProducer.
type Producer struct {
	q *queue.Queue
}

// NewProducer returns a Producer adding to q.
func NewProducer(q *queue.Queue) *Producer { return &Producer{q: q} }

// GenerateMock adds count mock-data jobs in one round trip and returns their ids.
func (p *Producer) GenerateMock(ctx context.Context, count int) ([]string, error) {
	if count < 1 || count > 1000 {
		return nil, fmt.Errorf("%w: count %d is outside 1..1000", queue.ErrInvalid, count)
	}
	jobs := make([]queue.NewJob, count)
	for i := range jobs {
		data, _ := json.Marshal(MockData{Name: mockName(), Source: "api"})
		jobs[i] = queue.NewJob{Name: JobName, Data: data, Options: JobOptions}
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
	data, _ := json.Marshal(MockData{Name: mockName(), Source: "cron"})
	opts := JobOptions
	opts.ID = "cron-" + strconv.FormatInt(slot.UnixMilli(), 10)
	return p.q.Add(ctx, JobName, data, opts)
}
