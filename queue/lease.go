package queue

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// ack is a job outcome waiting to be recorded.
type ack struct {
	id      string
	token   int64
	outcome byte   // 'c' completed, 'r' retry, 'f' failed
	spec    string // retention spec, or the retry delay in ms
	result  string
	msg     string
	dedup   bool // the job has a dedup key to release
}

// sendAck queues an outcome; after the recorder stopped it is dropped (the
// job was handed back or its lease will expire).
func (w *Worker) sendAck(a ack) {
	select {
	case w.acks <- a:
	case <-w.ackDone:
	}
}

// ackLoop records outcomes in batches: whatever queued up while the previous
// batch was in flight goes in the next round trip.
func (w *Worker) ackLoop() {
	defer close(w.ackDone)
	batch := make([]ack, 0, w.cfg.AckBatch)
	for {
		select {
		case a := <-w.acks:
			batch = append(batch, a)
		case <-w.ackStop:
			for {
				select {
				case a := <-w.acks:
					batch = append(batch, a)
					continue
				default:
				}
				w.flush(batch)
				return
			}
		}
	fill:
		for len(batch) < w.cfg.AckBatch {
			select {
			case a := <-w.acks:
				batch = append(batch, a)
			default:
				break fill
			}
		}
		w.flush(batch)
		batch = batch[:0]
	}
}

// flush records a batch, retrying while Redis is unreachable for up to a
// lease time: past that the jobs' leases have expired and they will be
// redelivered, so the outcomes would be refused anyway.
func (w *Worker) flush(batch []ack) {
	if len(batch) == 0 {
		return
	}
	args := make([]any, 0, 7*len(batch))
	for _, a := range batch {
		dedup := "0"
		if a.dedup {
			dedup = "1"
		}
		args = append(args, a.id, a.token, string(a.outcome), a.spec, a.result, a.msg, dedup)
	}
	deadline := time.Now().Add(w.cfg.LeaseTime)
	var failing retryDelay
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		lost, err := w.q.run(ctx, scriptAck, args...).StringSlice()
		cancel()
		if err == nil {
			if len(lost) > 0 {
				w.log.Warn("outcomes dropped: jobs were no longer leased to this worker (lease expired or handed back)", "jobs", lost)
			}
			return
		}
		if time.Now().After(deadline) {
			w.log.Error("recording job outcomes failed; the jobs will be redelivered when their leases expire", "jobs", len(batch), "err", err)
			return
		}
		d := failing.next()
		if failing.shouldLog() {
			w.log.Warn("recording job outcomes failed; retrying", "jobs", len(batch), "err", err)
		}
		time.Sleep(d)
	}
}

// heartbeatLoop renews the leases of running jobs every LeaseTime/3, cancels
// handlers whose lease was lost, and picks up cancellations that the
// cancel channel missed.
func (w *Worker) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.LeaseTime / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.heartbeat(ctx)
	}
}

func (w *Worker) heartbeat(ctx context.Context) {
	w.mu.Lock()
	args := make([]any, 0, 1+2*len(w.active))
	args = append(args, w.cfg.LeaseTime.Milliseconds())
	for id, aj := range w.active {
		if !aj.released {
			args = append(args, id, aj.job.run.token)
		}
	}
	w.mu.Unlock()
	if len(args) == 1 {
		return
	}
	sent := time.Now()
	cctx, cancel := context.WithTimeout(ctx, w.cfg.LeaseTime/3)
	res, err := w.q.run(cctx, scriptExtend, args...).Slice()
	cancel()
	if err != nil || len(res) != 2 {
		if ctx.Err() == nil {
			w.log.Warn("renewing job leases failed", "err", err)
		}
		// Stop handlers whose lease has surely expired: another worker may
		// already be running their jobs.
		w.mu.Lock()
		for _, aj := range w.active {
			if time.Since(aj.renewed) > w.cfg.LeaseTime {
				aj.cancel(ErrLeaseLost)
			}
		}
		w.mu.Unlock()
		return
	}
	lost, _ := res[0].([]any)
	cancelled, _ := res[1].([]any)
	w.mu.Lock()
	for _, aj := range w.active {
		aj.renewed = sent
	}
	w.mu.Unlock()
	for _, id := range lost {
		w.cancelLocal(str(id), ErrLeaseLost)
	}
	for _, id := range cancelled {
		w.cancelLocal(str(id), ErrCancelled)
	}
}

// cancelListener cancels local handlers of jobs cancelled from any process.
func (w *Worker) cancelListener(ctx context.Context) {
	ps := w.q.rdb.Subscribe(ctx, w.q.cancelChannel)
	defer ps.Close()
	// go-redis pings an idle subscription every 3 s by default: most of an
	// idle worker's Redis traffic. Once a minute still finds a dead
	// connection; a cancel missed meanwhile arrives with the next heartbeat.
	ch := ps.Channel(redis.WithChannelHealthCheckInterval(time.Minute))
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			w.cancelLocal(m.Payload, ErrCancelled)
		}
	}
}

// ReportProgress stores the running job's progress (any JSON-encodable value,
// such as a percentage or a small object) and publishes a progress event. It
// returns ErrLeaseLost if this worker no longer holds the job.
func (j *Job) ReportProgress(ctx context.Context, v any) error {
	if j.run == nil {
		return errors.New("queue: ReportProgress called outside a handler")
	}
	p, err := encodeValue(v)
	if err != nil {
		return err
	}
	if p == "" {
		return invalidf("progress must not be nil")
	}
	ok, err := j.run.w.q.run(ctx, scriptProgress, j.ID, j.run.token, p).Int()
	if err != nil {
		return err
	}
	if ok == 0 {
		return ErrLeaseLost
	}
	j.Progress = rawJSON(p)
	return nil
}
