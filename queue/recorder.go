package queue

import (
	"context"
	"time"
)

// runRecorder records outcomes in batches, whatever queued up while the
// previous batch was in flight going in the next round trip, until the
// outcomes channel is closed and drained.
func (w *Worker) runRecorder() {
	batch := make([]outcome, 0, w.cfg.AckBatch)
	for o := range w.outcomes {
		batch = append(batch[:0], o)
	fill:
		for len(batch) < w.cfg.AckBatch {
			select {
			case o, ok := <-w.outcomes:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		w.record(batch)
	}
}

// record records a batch as one request, retrying while Redis is
// unreachable for up to a lease time: past that the jobs' leases have
// expired and they will be redelivered, so the outcomes would be refused
// anyway. A retry after a lost reply gets the first run's answer.
func (w *Worker) record(batch []outcome) {
	batch, args := ackArgs(batch)
	req := request{id: newRequestID(), key: w.ackKey}
	deadline := time.Now().Add(w.cfg.LeaseTime)
	var failing retryDelay
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		reply, err := w.q.call(ctx, scriptAck, req, args...)
		cancel()
		var lost []int
		if err == nil {
			lost, err = decodePositions(reply)
		}
		if err == nil {
			if len(lost) > 0 {
				ids := make([]string, 0, len(lost))
				for _, k := range lost {
					if k >= 1 && k <= len(batch) {
						ids = append(ids, batch[k-1].id)
					}
				}
				w.log.Warn("outcomes dropped: jobs were no longer leased to this worker (lease expired or handed back)", "jobs", ids)
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
