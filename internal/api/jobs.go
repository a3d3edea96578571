package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/eventsd/eventsd/queue"
)

// jobView is a job as the API shows it, so that a user can follow a job from
// generate-mock to its event.
type jobView struct {
	ID    string `json:"id" example:"42"`
	Queue string `json:"queue" example:"mock-data-queue"`
	Name  string `json:"name" example:"process-mock-data"`
	State string `json:"state" enum:"waiting,paused,active,delayed,completed,failed"`
	// Data is any so that JSON payloads show as JSON, not base64.
	Data        any             `json:"data,omitempty" doc:"The job's payload: JSON when it is valid JSON, else a string; over 64 KiB, a string giving its size."`
	Attempt     int             `json:"attempt" doc:"The attempt running now, or the last one (1-based; 0 before the first)."`
	MaxAttempts int             `json:"maxAttempts" doc:"How many times the job may run: its retries plus one."`
	Failures    int             `json:"failures" doc:"Attempts that failed; each used one retry."`
	Stalls      int             `json:"stalls" doc:"Deliveries lost with their worker; these do not use a retry."`
	History     []attemptView   `json:"history,omitempty" doc:"Each failed or stalled attempt, oldest first."`
	Progress    json.RawMessage `json:"progress,omitempty" doc:"The last progress the handler reported."`
	Result      json.RawMessage `json:"result,omitempty" doc:"What the handler returned, for a completed job."`
	Error       string          `json:"error,omitempty" doc:"The last failure's message; for a failed job, why it failed."`
	AddedAt     string          `json:"addedAt" format:"date-time"`
	StartedAt   string          `json:"startedAt,omitempty" format:"date-time" doc:"When the latest attempt started."`
	FinishedAt  string          `json:"finishedAt,omitempty" format:"date-time" doc:"When the job completed or failed for good."`
	DueAt       string          `json:"dueAt,omitempty" format:"date-time" doc:"When a delayed job becomes ready."`
	Options     jobOptionsView  `json:"options"`
}

type attemptView struct {
	Attempt int    `json:"attempt"`
	Error   string `json:"error"`
	At      string `json:"at" format:"date-time"`
	Stalled bool   `json:"stalled,omitempty" doc:"The attempt was lost with its worker rather than failed."`
}

// jobOptionsView shows durations in milliseconds, the engine's resolution.
type jobOptionsView struct {
	Priority         int            `json:"priority" doc:"Lower runs first; 0 to 1000."`
	Retries          int            `json:"retries" doc:"Retries allowed after the first attempt: 3 retries = 4 attempts."`
	Backoff          backoffView    `json:"backoff"`
	TimeoutMs        int64          `json:"timeoutMs,omitempty" doc:"Limit on one attempt; absent when there is none."`
	RemoveOnComplete *retentionView `json:"removeOnComplete,omitempty" doc:"What is kept of the job when it completes; absent means the queue's default (removed)."`
	RemoveOnFail     *retentionView `json:"removeOnFail,omitempty" doc:"What is kept of the job when it fails; absent means the queue's default (kept)."`
	DedupKey         string         `json:"dedupKey,omitempty"`
}

type backoffView struct {
	Type    string `json:"type,omitempty" enum:"exponential,fixed,custom" doc:"Absent means the queue's default (exponential from 2 s)."`
	DelayMs int64  `json:"delayMs,omitempty" doc:"Exponential: wait before retry n is delayMs × 2^(n−1). Fixed: wait before every retry."`
	MaxMs   int64  `json:"maxMs,omitempty" doc:"Cap on the wait."`
}

type retentionView struct {
	Policy string `json:"policy" enum:"remove,keep"`
	Count  int    `json:"count,omitempty" doc:"Keep only the newest count jobs."`
	AgeMs  int64  `json:"ageMs,omitempty" doc:"Keep jobs this long after they end."`
}

func viewJob(j *queue.Job) jobView {
	v := jobView{
		ID:          j.ID,
		Queue:       j.Queue,
		Name:        j.Name,
		State:       string(j.State),
		Data:        jobData(j.Data),
		Attempt:     j.Attempt,
		MaxAttempts: j.MaxAttempts(),
		Failures:    j.Failures,
		Stalls:      j.Stalls,
		Progress:    j.Progress,
		Result:      j.Result,
		Error:       j.Error,
		AddedAt:     formatTime(j.AddedAt),
		StartedAt:   formatOptionalTime(j.StartedAt),
		FinishedAt:  formatOptionalTime(j.FinishedAt),
		DueAt:       formatOptionalTime(j.DueAt),
		Options: jobOptionsView{
			Priority: j.Options.Priority,
			// From MaxAttempts, so that the two never disagree however the
			// engine stores "the default" and "no retries".
			Retries: max(j.MaxAttempts()-1, 0),
			Backoff: backoffView{
				Type:    string(j.Options.Backoff.Type),
				DelayMs: j.Options.Backoff.Delay.Milliseconds(),
				MaxMs:   j.Options.Backoff.Max.Milliseconds(),
			},
			TimeoutMs:        j.Options.Timeout.Milliseconds(),
			RemoveOnComplete: viewRetention(j.Options.RemoveOnComplete),
			RemoveOnFail:     viewRetention(j.Options.RemoveOnFail),
			DedupKey:         j.Options.DedupKey,
		},
	}
	for _, h := range j.History {
		v.History = append(v.History, attemptView{Attempt: h.Attempt, Error: h.Error, At: formatTime(h.At), Stalled: h.Stalled})
	}
	return v
}

// maxShownJobData bounds the payload a job view shows: an import's can be
// megabytes, which a client following the job's progress should not fetch
// again and again.
const maxShownJobData = 64 << 10

// jobData shows a payload as JSON when it is JSON, else as a string; nil
// when there is none, and a note of its size when it is over
// maxShownJobData.
func jobData(data []byte) any {
	switch {
	case len(data) == 0:
		return nil
	case len(data) > maxShownJobData:
		return fmt.Sprintf("(%d bytes, not shown)", len(data))
	case json.Valid(data):
		return json.RawMessage(data)
	default:
		return string(data)
	}
}

func viewRetention(r queue.Retention) *retentionView {
	if r.Policy == queue.RetainDefault {
		return nil
	}
	return &retentionView{Policy: string(r.Policy), Count: r.Count, AgeMs: r.Age.Milliseconds()}
}

// jobIDInput names a job in the path.
type jobIDInput struct {
	ID string `path:"id" doc:"The job's id." example:"42"`
	QueueParam
}

// GET /api/jobs/{id}

var getJobOp = huma.Operation{
	OperationID: "getJob",
	Summary:     "Get a job",
	Description: "Returns a job's state, attempts, progress, result, error, timestamps and options. " +
		"Completed jobs are removed by default (KEEP_COMPLETED keeps them; a batch import is kept a day), so a " +
		"job that succeeded is then a 404 once it finished; its event carries the job's id (jobId). The ids `events` and `retry-failed` name routes, " +
		"not jobs: the API never gives a job either.",
	Tags:   []string{"jobs"},
	Errors: []int{http.StatusNotFound},
}

type jobOutput struct{ Body jobView }

func (a *API) getJob(ctx context.Context, in *jobIDInput) (*jobOutput, error) {
	q, err := a.queue(in.Queue)
	if err != nil {
		return nil, err
	}
	j, err := q.Get(ctx, in.ID)
	if errors.Is(err, queue.ErrNotFound) && q == a.jobs {
		// A completed job is removed, but its event records that it ran.
		if e, serr := a.store.GetByJobID(ctx, in.ID); serr == nil {
			return nil, wordf(err, "job %q is no longer in the queue: it completed and was removed, as completed jobs are; "+
				"it produced event %s (GET /api/events/%s)", in.ID, e.ID, e.ID)
		}
	}
	if err != nil {
		return nil, a.jobError(ctx, q, err, in.ID, "")
	}
	return &jobOutput{Body: viewJob(j)}, nil
}

// GET /api/jobs

var listJobsOp = huma.Operation{
	OperationID: "listJobs",
	Summary:     "List jobs in a state",
	Description: "Lists the queue's jobs in one state, `limit` at a time, with the number of jobs in each " +
		"state. Waiting jobs come in the order they will run, delayed ones by due time, completed and failed " +
		"ones newest first. Pass the response's `nextCursor` as `cursor` for the next page; it is absent on " +
		"the last page. A cursor names the last job's place, so jobs that leave the state while you page do " +
		"not make later pages skip others. A malformed cursor, or one from a listing of another state, is a " +
		"400.\n\n`offset` (skip that many jobs) is kept for clients written before cursors: positions shift " +
		"as jobs move, so pages by offset can skip or repeat jobs. It cannot be combined with a cursor; its " +
		"pages carry a nextCursor too.",
	Tags:   []string{"jobs"},
	Errors: []int{http.StatusBadRequest, http.StatusUnprocessableEntity},
}

type listJobsInput struct {
	State  string `query:"state" required:"true" enum:"waiting,paused,active,delayed,completed,failed" doc:"Which jobs to list."`
	Cursor string `query:"cursor" maxLength:"1024" doc:"Where to continue: a previous page's nextCursor."`
	Offset int    `query:"offset" minimum:"0" maximum:"1000000000" default:"0" doc:"How many jobs to skip; without cursor only. Kept for older clients: prefer cursor."`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"50" doc:"Page size."`
	QueueParam
}

// Resolve rejects a cursor with an offset: a page starts at one or the other.
func (in *listJobsInput) Resolve(ctx huma.Context) []error {
	if in.Cursor != "" && in.Offset > 0 {
		return []error{&huma.ErrorDetail{Location: "query.offset", Message: "offset cannot be combined with cursor",
			Value: ctx.Query("offset")}}
	}
	return nil
}

type jobPage struct {
	Items      []jobView   `json:"items" nullable:"false"`
	NextCursor string      `json:"nextCursor,omitempty" doc:"Pass as cursor for the next page; absent on the last page."`
	Counts     stateCounts `json:"counts" doc:"Jobs in each state now; counts[state] is this listing's total."`
}

type stateCounts struct {
	Waiting   int64 `json:"waiting"`
	Paused    int64 `json:"paused"`
	Active    int64 `json:"active"`
	Delayed   int64 `json:"delayed"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
}

type listJobsOutput struct{ Body jobPage }

func (a *API) listJobs(ctx context.Context, in *listJobsInput) (*listJobsOutput, error) {
	q, err := a.queue(in.Queue)
	if err != nil {
		return nil, err
	}
	page, err := q.ListPage(ctx, queue.State(in.State), queue.PageRequest{After: in.Cursor, Offset: in.Offset, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	c, err := q.Counts(ctx)
	if err != nil {
		return nil, err
	}
	out := &listJobsOutput{Body: jobPage{
		Items:      make([]jobView, len(page.Jobs)),
		NextCursor: page.Next,
		Counts: stateCounts{Waiting: c.Waiting, Paused: c.Paused, Active: c.Active, Delayed: c.Delayed,
			Completed: c.Completed, Failed: c.Failed},
	}}
	for i, j := range page.Jobs {
		out.Body.Items[i] = viewJob(j)
	}
	return out, nil
}

// DELETE /api/jobs/{id} and the per-job actions

var removeJobOp = huma.Operation{
	OperationID: "removeJob",
	Summary:     "Remove a job",
	Description: "Removes a job that is not running and answers 204. An active job is a 409: cancel it first.",
	Tags:        []string{"jobs"},
	Errors:      []int{http.StatusNotFound, http.StatusConflict},
}

func (a *API) removeJob(ctx context.Context, in *jobIDInput) (*struct{}, error) {
	return nil, a.onJob(ctx, in, "remove", Jobs.Remove, "it is active; cancel it first")
}

var retryJobOp = huma.Operation{
	OperationID: "retryJob",
	Summary:     "Retry a failed job",
	Description: "Puts a failed job back to waiting with its retries renewed, and answers 204. A job that has " +
		"not failed is a 409.",
	Tags:   []string{"jobs"},
	Errors: []int{http.StatusNotFound, http.StatusConflict},
}

func (a *API) retryJob(ctx context.Context, in *jobIDInput) (*struct{}, error) {
	return nil, a.onJob(ctx, in, "retry", Jobs.Retry, "only failed jobs can be retried")
}

var promoteJobOp = huma.Operation{
	OperationID: "promoteJob",
	Summary:     "Run a delayed job now",
	Description: "Makes a delayed job (added with a delay, or backing off before a retry) ready at once, and " +
		"answers 204. A job that is not delayed is a 409.",
	Tags:   []string{"jobs"},
	Errors: []int{http.StatusNotFound, http.StatusConflict},
}

func (a *API) promoteJob(ctx context.Context, in *jobIDInput) (*struct{}, error) {
	return nil, a.onJob(ctx, in, "promote", Jobs.Promote, "only delayed jobs can be promoted")
}

var cancelJobOp = huma.Operation{
	OperationID: "cancelJob",
	Summary:     "Cancel a job",
	Description: "Cancels a job and answers 202: a waiting or delayed job fails at once; a running job's " +
		"handler sees its context cancelled, in whichever process runs it, and the job fails without a " +
		"retry. A job that already finished is a 409.",
	Tags:          []string{"jobs"},
	DefaultStatus: http.StatusAccepted,
	Errors:        []int{http.StatusNotFound, http.StatusConflict},
}

func (a *API) cancelJob(ctx context.Context, in *jobIDInput) (*struct{}, error) {
	return nil, a.onJob(ctx, in, "cancel", Jobs.Cancel, "it has already finished")
}

// onJob runs a management action on one job of the queue in names, and
// audits it.
func (a *API) onJob(ctx context.Context, in *jobIDInput, action string, do func(Jobs, context.Context, string) error, why string) error {
	q, err := a.queue(in.Queue)
	if err == nil {
		err = a.jobError(ctx, q, do(q, ctx, in.ID), in.ID, why)
	}
	return a.audit(ctx, action, err, "queue", cmp.Or(in.Queue, a.jobs.Name()), "job_id", in.ID)
}

// jobError words the errors of an operation on job id in q; why says why
// the job's state does not allow it. A job not found in q but in another
// queue is still a 404, which names the queue to ask. Other errors pass as
// they are.
func (a *API) jobError(ctx context.Context, q Jobs, err error, id, why string) error {
	switch {
	case errors.Is(err, queue.ErrNotFound):
		for _, other := range a.queues {
			if other == q {
				continue
			}
			if _, oerr := other.Get(ctx, id); oerr == nil {
				return wordf(err, "job %q is not in the queue %s but in %s: add ?queue=%s", id, q.Name(), other.Name(), other.Name())
			}
		}
		return wordf(err, "job %q not found; completed jobs are removed by default, so a job that succeeded is gone once it finished", id)
	case errors.Is(err, queue.ErrWrongState):
		return wordf(err, "job %q: %s", id, why)
	}
	return err
}

// POST /api/jobs/retry-failed

var retryFailedOp = huma.Operation{
	OperationID: "retryFailedJobs",
	Summary:     "Retry every failed job",
	Description: "Puts every failed job back to waiting and says how many.",
	Tags:        []string{"jobs"},
}

type retriedJobs struct {
	Retried int `json:"retried" doc:"How many failed jobs were put back to waiting."`
}

type retryFailedOutput struct{ Body retriedJobs }

func (a *API) retryFailed(ctx context.Context, in *QueueParam) (*retryFailedOutput, error) {
	q, err := a.queue(in.Queue)
	n := 0
	if err == nil {
		n, err = q.RetryAll(ctx)
	}
	if err := a.audit(ctx, "retry-failed", err, "queue", cmp.Or(in.Queue, a.jobs.Name()), "retried", n); err != nil {
		return nil, err
	}
	out := &retryFailedOutput{}
	out.Body.Retried = n
	return out, nil
}

// POST /api/queue/pause and /resume

var pauseQueueOp = huma.Operation{
	OperationID: "pauseQueue",
	Summary:     "Pause the queue",
	Description: "Stops every worker from starting the queue's jobs; running jobs finish. Jobs can still be " +
		"added: they wait, counted as paused. Answers 204; pausing a paused queue is not an error.",
	Tags: []string{"queue"},
}

func (a *API) pauseQueue(ctx context.Context, in *QueueParam) (*struct{}, error) {
	return nil, a.onQueue(ctx, in, "pause", Jobs.Pause)
}

var resumeQueueOp = huma.Operation{
	OperationID: "resumeQueue",
	Summary:     "Resume the queue",
	Description: "Lets workers start the queue's jobs again. Answers 204; resuming a running queue is not an error.",
	Tags:        []string{"queue"},
}

func (a *API) resumeQueue(ctx context.Context, in *QueueParam) (*struct{}, error) {
	return nil, a.onQueue(ctx, in, "resume", Jobs.Resume)
}

// onQueue runs a management action on the queue in names, and audits it.
func (a *API) onQueue(ctx context.Context, in *QueueParam, action string, do func(Jobs, context.Context) error) error {
	q, err := a.queue(in.Queue)
	if err == nil {
		err = do(q, ctx)
	}
	return a.audit(ctx, action, err, "queue", cmp.Or(in.Queue, a.jobs.Name()))
}

// QueueParam picks the queue a jobs or queue route acts on.
type QueueParam struct { // exported: huma reads only exported embedded fields
	Queue string `query:"queue" maxLength:"200" doc:"The queue: mock-data-queue (the default) or webhooks (webhook deliveries). GET /api/events/stats lists them."`
}

// queue returns the queue named name, the default one for "".
func (a *API) queue(name string) (Jobs, error) {
	if name == "" {
		return a.jobs, nil
	}
	for _, q := range a.queues {
		if q.Name() == name {
			return q, nil
		}
	}
	names := make([]string, len(a.queues))
	for i, q := range a.queues {
		names[i] = strconv.Quote(q.Name())
	}
	return nil, invalidAt("query.queue", name, fmt.Errorf("no queue %q here; the queues are %s", name, strings.Join(names, ", ")))
}
