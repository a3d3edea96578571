package events

import "context"

// WriteBatch writes es as one batch of b, as if each had come through
// Write at once; own[i] says whether es[i].ID was chosen by the Batcher.
// It returns each write's answer.
func WriteBatch(ctx context.Context, b *Batcher, es []Event, own []bool) ([]Event, []error) {
	reqs := make([]writeReq, len(es))
	for i, e := range es {
		reqs[i] = writeReq{ctx: ctx, e: e, ownID: own[i], reply: make(chan writeReply, 1)}
	}
	b.flush(reqs)
	out, errs := make([]Event, len(es)), make([]error, len(es))
	for i, r := range reqs {
		rep := <-r.reply
		out[i], errs[i] = rep.e, rep.err
	}
	return out, errs
}
