package webhooks

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// DeliverConfig tunes a Deliverer. The zero value of every field is its default.
type DeliverConfig struct {
	// RetryDelays is the wait before each retry; a delivery makes
	// len(RetryDelays)+1 attempts. Each wait gets up to a fifth more, at
	// random, so that receivers coming back are not hit all at once.
	// Default DefaultRetryDelays.
	RetryDelays []time.Duration
	// Timeout bounds one attempt: connecting, sending and the answer.
	// Default 10 s.
	Timeout time.Duration
	// DisableAfter disables a subscription after this many deliveries in a
	// row failed for good. Default 20.
	DisableAfter int
	// DisableAge disables a subscription whose deliveries have failed, with
	// none delivered, for this long. Default 5 days.
	DisableAge time.Duration
	// AllowPrivate lets deliveries reach loopback, private and link-local
	// addresses (local use and tests).
	AllowPrivate bool
	// BreakAfter opens a subscription's circuit after this many attempts
	// in a row timed out: its deliveries then fail at once, without a
	// request, except one probe every ProbeEvery, until one is answered.
	// Defaults 3 and 30 s.
	BreakAfter int
	ProbeEvery time.Duration
	// Observe, when set, is told each attempt's outcome and duration.
	Observe func(outcome string, took time.Duration)
	// NotSent, when set, is told of each attempt failed without a request
	// because its subscription's circuit was open.
	NotSent func()
	// Logger logs subscriptions disabled. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Deliverer runs deliver-webhook jobs.
type Deliverer struct {
	store    events.Store
	client   *http.Client
	cfg      DeliverConfig
	circuits *circuits
}

// NewDeliverer returns a Deliverer recording attempts in st.
func NewDeliverer(st events.Store, cfg DeliverConfig) *Deliverer {
	if len(cfg.RetryDelays) == 0 {
		cfg.RetryDelays = DefaultRetryDelays
	}
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Second)
	cfg.DisableAfter = cmp.Or(cfg.DisableAfter, 20)
	cfg.DisableAge = cmp.Or(cfg.DisableAge, 5*24*time.Hour)
	cfg.BreakAfter = cmp.Or(cfg.BreakAfter, 3)
	cfg.ProbeEvery = cmp.Or(cfg.ProbeEvery, 30*time.Second)
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Deliverer{store: st, client: NewClient(cfg.Timeout, cfg.AllowPrivate), cfg: cfg,
		circuits: newCircuits(cfg.BreakAfter, cfg.ProbeEvery)}
}

// Register routes deliver-webhook jobs on mux to d.
func Register(mux *queue.Mux, d *Deliverer) { mux.Handle(JobName, d) }

// Result is what a delivered job keeps.
type Result struct {
	StatusCode int    `json:"statusCode,omitempty"`
	Skipped    string `json:"skipped,omitempty"`
}

// payload is the body Standard Webhooks prescribes.
type payload struct {
	Type      string    `json:"type"`
	Timestamp string    `json:"timestamp"`
	Data      eventJSON `json:"data"`
}

// ProcessJob makes one attempt of a delivery and records it. A deleted or
// disabled subscription ends the delivery without sending.
func (d *Deliverer) ProcessJob(ctx context.Context, job *queue.Job) (any, error) {
	var data jobData
	if err := json.Unmarshal(job.Data, &data); err != nil || data.WebhookID == "" || data.DeliveryID == "" {
		return nil, queue.SkipRetry(fmt.Errorf("malformed deliver-webhook job data"))
	}
	w, err := d.store.GetWebhook(ctx, data.WebhookID)
	if errors.Is(err, events.ErrWebhookNotFound) {
		return Result{Skipped: "the subscription was deleted"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the subscription: %w", err)
	}
	if !w.Enabled {
		return Result{Skipped: "the subscription is disabled"}, nil
	}

	body, _ := json.Marshal(payload{Type: data.Event.Name, Timestamp: data.Event.CreatedAt, Data: data.Event})
	start := d.cfg.Now()
	var (
		status     int
		resp       string
		retryAfter time.Duration
		took       time.Duration
	)
	var sendErr error
	if !data.Manual {
		sendErr = d.circuits.allow(w.ID, start)
	}
	sent := sendErr == nil
	if sent {
		status, resp, retryAfter, sendErr = d.send(ctx, w, data.DeliveryID, start, body)
		took = d.cfg.Now().Sub(start)
		d.circuits.done(w.ID, start.Add(took), errors.Is(sendErr, errTimedOut))
	}

	a := events.DeliveryAttempt{WebhookID: w.ID, DeliveryID: data.DeliveryID, EventID: data.Event.ID,
		EventName: data.Event.Name, JobID: job.ID, JobQueue: job.Queue, Attempt: data.AttemptBase + job.Attempt, StatusCode: status,
		Duration: took, Response: resp, CreatedAt: start}
	retryable := false
	switch {
	case sendErr == nil && status >= 200 && status < 300:
		a.Outcome = events.OutcomeDelivered
	case sendErr != nil:
		a.Error, retryable = sendErr.Error(), true
	default:
		a.Error = "the receiver answered HTTP " + strconv.Itoa(status)
		retryable = status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
	}
	var wait time.Duration
	if a.Outcome == "" {
		a.Outcome = events.OutcomeFailed
		if retryable && job.Attempt < job.MaxAttempts() {
			a.Outcome = events.OutcomeRetrying
			wait = d.backoff(job.Attempt, retryAfter)
			a.NextRetryAt = start.Add(took + wait)
		}
	}
	switch {
	case sent && d.cfg.Observe != nil:
		d.cfg.Observe(a.Outcome, took)
	case !sent && d.cfg.NotSent != nil:
		d.cfg.NotSent()
	}
	// The record outlives a cancelled job: what was sent happened.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := d.store.AddDeliveryAttempt(rctx, a); err != nil {
		return nil, fmt.Errorf("record the delivery attempt: %w", err)
	}
	switch a.Outcome {
	case events.OutcomeDelivered:
		if _, err := d.store.RecordDeliveryOutcome(rctx, w.ID, true, start); err != nil {
			return nil, fmt.Errorf("record the delivery: %w", err)
		}
		return Result{StatusCode: status}, nil
	case events.OutcomeRetrying:
		return nil, queue.RetryAfter(wait, errors.New(a.Error))
	}
	after, err := d.store.RecordDeliveryOutcome(rctx, w.ID, false, start)
	if err != nil {
		return nil, queue.SkipRetry(fmt.Errorf("%s; then recording the failure: %w", a.Error, err))
	}
	d.maybeDisable(rctx, after)
	return nil, queue.SkipRetry(errors.New(a.Error))
}

// maybeDisable disables w when its failures have gone on too long.
func (d *Deliverer) maybeDisable(ctx context.Context, w events.Webhook) {
	var reason string
	switch {
	case w.Failures >= d.cfg.DisableAfter:
		reason = fmt.Sprintf("disabled after %d deliveries in a row failed", w.Failures)
	case !w.FailingSince.IsZero() && d.cfg.Now().Sub(w.FailingSince) >= d.cfg.DisableAge:
		reason = fmt.Sprintf("disabled after deliveries failed since %s", formatTime(w.FailingSince))
	default:
		return
	}
	if !w.Enabled {
		return
	}
	w.Enabled, w.DisabledReason = false, reason
	if _, err := d.store.UpdateWebhook(ctx, w); err != nil {
		d.cfg.Logger.Warn("cannot disable a failing webhook subscription", "webhook_id", w.ID, "err", err)
		return
	}
	d.cfg.Logger.Warn("webhook subscription disabled", "webhook_id", w.ID, "reason", reason)
}

// backoff returns the wait before the retry after attempt n: the schedule's
// entry plus up to a fifth more at random, or the receiver's Retry-After
// when it asks for longer (at most a day).
func (d *Deliverer) backoff(n int, retryAfter time.Duration) time.Duration {
	base := d.cfg.RetryDelays[min(n, len(d.cfg.RetryDelays))-1]
	wait := base + time.Duration(rand.Int64N(int64(base)/5+1))
	return max(wait, min(retryAfter, 24*time.Hour))
}

// send POSTs body, signed, and returns the status, the start of the
// response body and any Retry-After; err is set when no answer came.
func (d *Deliverer) send(ctx context.Context, w events.Webhook, id string, at time.Time, body []byte) (status int, resp string, retryAfter time.Duration, err error) {
	ts := at.Unix()
	sig, err := Sign(w.Secret, id, ts, body)
	if err != nil {
		return 0, "", 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", 0, fmt.Errorf("build the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "eventsd-webhooks")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, sig)
	res, err := d.client.Do(req)
	if err != nil {
		return 0, "", 0, describe(err)
	}
	defer res.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(res.Body, events.MaxResponseBytes))
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
	return res.StatusCode, string(head), parseRetryAfter(res.Header.Get("Retry-After"), d.cfg.Now()), nil
}

// describe words a failed request without the URL (net/http puts it in
// every error, and URLs may hold tokens).
func describe(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, errBlockedDial):
		return err
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errTimedOut
	}
	return err
}

// errTimedOut is an attempt that got no answer within the timeout.
var errTimedOut = errors.New("timed out")

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
