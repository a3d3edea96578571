package queue

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// runLeaser keeps the leases of running jobs and hears cancellations until
// ctx ends: a heartbeat every LeaseTime/3, and a listener on the queue's
// cancel channel.
func (w *Worker) runLeaser(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { w.heartbeatLoop(ctx) })
	wg.Go(func() { w.cancelListener(ctx) })
	wg.Wait()
}

// heartbeatLoop renews the leases of running jobs, stops handlers whose
// lease was lost, and picks up cancellations the cancel channel missed.
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

// leased is one running delivery as the heartbeat saw it.
type leased struct {
	s     *slot
	job   *Job
	token int64
}

func (w *Worker) heartbeat(ctx context.Context) {
	var held []leased
	args := []any{w.cfg.LeaseTime.Milliseconds()}
	for _, s := range w.slots {
		s.mu.Lock()
		if s.job != nil && !s.released {
			held = append(held, leased{s, s.job, s.job.run.token})
			args = append(args, s.job.ID, s.job.run.state)
		}
		s.mu.Unlock()
	}
	if len(held) == 0 {
		return
	}
	sent := time.Now()
	cctx, cancel := context.WithTimeout(ctx, w.cfg.LeaseTime/3)
	reply, err := w.q.call(cctx, scriptExtend, request{}, args...)
	cancel()
	var r extendReply
	if err == nil {
		r, err = decodeExtend(reply)
	}
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("renewing job leases failed", "err", err)
		}
		// Stop handlers whose lease has surely expired: another worker may
		// already run their jobs, and their outcomes would not count.
		for _, l := range held {
			l.s.mu.Lock()
			if l.s.job == l.job && time.Since(l.s.renewed) > w.cfg.LeaseTime {
				l.s.cancel(ErrLeaseLost)
			}
			l.s.mu.Unlock()
		}
		return
	}
	for _, l := range held {
		l.s.mu.Lock()
		if l.s.job == l.job {
			l.s.renewed = sent
		}
		l.s.mu.Unlock()
	}
	stop := func(positions []int, cause error) {
		for _, k := range positions {
			if k < 1 || k > len(held) {
				continue
			}
			l := held[k-1]
			l.s.mu.Lock()
			if l.s.job == l.job {
				l.s.cancel(cause)
			}
			l.s.mu.Unlock()
		}
	}
	stop(r.lost, ErrLeaseLost)
	stop(r.cancelled, ErrCancelled)
}

// cancelListener cancels local handlers of jobs cancelled from any process.
func (w *Worker) cancelListener(ctx context.Context) {
	ps := w.q.rdb.Subscribe(ctx, w.q.cancelChannel)
	defer ps.Close()
	// Wait for the subscription to be confirmed: cancels published from
	// then on reach this worker (earlier ones reach it by the heartbeat).
	for {
		if _, err := ps.Receive(ctx); err == nil || ctx.Err() != nil {
			break
		}
		sleep(ctx, time.Second)
	}
	if h := w.hooks.subscribed; h != nil {
		h()
	}
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
			w.cancelRunning(m.Payload, 0, ErrCancelled)
		}
	}
}

// ReportProgress stores the running job's progress (any JSON-encodable value,
// such as a percentage or a small object) and publishes a progress event
// when it changed. It returns ErrLeaseLost if this worker no longer holds
// the job.
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
	j.run.progressed.Store(true)
	reply, err := j.run.w.q.call(ctx, scriptProgress, request{}, j.ID, j.run.token, p)
	var ok string
	if err == nil {
		ok, err = decodeOne(reply)
	}
	if err != nil {
		return err
	}
	if ok != "1" {
		return ErrLeaseLost
	}
	j.Progress = rawJSON(p)
	return nil
}
