package queue

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// PageRequest picks a page of ListPage.
type PageRequest struct {
	// After continues after a previous page: its JobPage.Next. "" starts at
	// the beginning.
	After string
	// Offset skips this many jobs first; only without After. Positions
	// shift as jobs move, so pages by offset can skip or repeat jobs: After
	// does not.
	Offset int
	// Limit is the page size, 1 to 1000.
	Limit int
}

// JobPage is one page of ListPage.
type JobPage struct {
	Jobs []*Job
	// Next continues the listing (PageRequest.After); "" on the last page.
	Next string
}

// ListPage returns a page of the jobs in state, in List's order. A cursor
// names the last job's place, not a position: jobs that leave the state or
// arrive before that place do not shift later pages, so a listing by
// cursor shows every job that stays in the state throughout exactly once.
// Jobs that move between reading the page's ids and the jobs themselves are
// left out, so a page may hold fewer than Limit jobs with more to come. A
// cursor that is not one of Next's, or that names another state (paused
// and waiting are one), is ErrInvalidCursor.
func (q *Queue) ListPage(ctx context.Context, state State, req PageRequest) (JobPage, error) {
	if req.Offset < 0 || req.Limit < 1 || req.Limit > 1000 {
		return JobPage{}, invalidf("offset must be >= 0 and limit 1..1000")
	}
	set, err := listSet(state)
	if err != nil {
		return JobPage{}, err
	}
	if req.After != "" && req.Offset > 0 {
		return JobPage{}, invalidf("a page starts after a cursor or at an offset, not both")
	}
	out := JobPage{Jobs: []*Job{}}
	if req.Offset > MaxListOffset {
		return out, nil
	}
	var pos pagePos
	if req.After != "" {
		if pos, err = parsePagePos(req.After, set); err != nil {
			return JobPage{}, err
		}
	}
	args := []any{string(set), req.Limit + 1, req.Offset, "", ""}
	if pos.id != "" {
		args[3], args[4] = strconv.FormatInt(pos.score, 10), pos.id
	}
	reply, err := q.call(ctx, scriptPage, request{}, args...)
	var members []pagePos
	if err == nil {
		members, err = decodePage(reply)
	}
	if err != nil {
		return JobPage{}, fmt.Errorf("queue %s: list %s: %w", q.name, state, err)
	}
	if len(members) > req.Limit {
		members = members[:req.Limit]
		out.Next = members[len(members)-1].cursor(set)
	}
	if len(members) == 0 {
		return out, nil
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.id
	}
	jobs, err := q.getMany(ctx, ids)
	if err != nil {
		return JobPage{}, fmt.Errorf("queue %s: list %s: %w", q.name, state, err)
	}
	for _, j := range jobs {
		// As in List: waiting jobs of a paused queue show as paused.
		if j != nil && (j.State == state || state == StateWaiting && j.State == StatePaused) {
			out.Jobs = append(out.Jobs, j)
		}
	}
	return out, nil
}

// listSet is the sorted set that holds the jobs in state.
func listSet(state State) (State, error) {
	switch state {
	case StatePaused:
		return StateWaiting, nil
	case StateWaiting, StateActive, StateDelayed, StateCompleted, StateFailed:
		return state, nil
	}
	return "", invalidf("unknown state %q", state)
}

// pagePos is a member's place in its set: score, then id.
type pagePos struct {
	score int64
	id    string
}

// page.lua — ARGV: state, count, first rank, position score, position id.
// Reply: pairs id, integer score.
func decodePage(reply string) ([]pagePos, error) {
	f := fields{s: reply}
	var out []pagePos
	for f.more() {
		id := f.str()
		out = append(out, pagePos{id: id, score: f.int()})
	}
	return out, f.done()
}

// A cursor is "<set>.<score>.<id>" in unpadded URL-safe base64: opaque to
// clients, and safe in a query string as it is.
func (p pagePos) cursor(set State) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(set) + "." + strconv.FormatInt(p.score, 10) + "." + p.id))
}

func parsePagePos(cursor string, set State) (pagePos, error) {
	bad := func(why string) (pagePos, error) {
		return pagePos{}, fmt.Errorf("%w: %s", ErrInvalidCursor, why)
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return bad("not a cursor this API made")
	}
	parts := strings.SplitN(string(raw), ".", 3)
	if len(parts) != 3 {
		return bad("not a cursor this API made")
	}
	score, err := strconv.ParseInt(parts[1], 10, 64)
	id := parts[2]
	if err != nil || score < 0 || score > 1<<53 || id == "" || len(id) > 256 || strings.IndexFunc(id, unicode.IsControl) >= 0 {
		return bad("not a cursor this API made")
	}
	if parts[0] != string(set) {
		return bad(fmt.Sprintf("it continues a listing of %s jobs, not %s", parts[0], set))
	}
	return pagePos{score: score, id: id}, nil
}
