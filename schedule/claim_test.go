package schedule_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"testing"

	"github.com/eventsd/eventsd/internal/faultproxy"
	"github.com/redis/go-redis/v9"
)

// TestLostClaimReplyStillFires loses the reply of a slot's claim after Redis
// ran it; the client retries the claim, which must know its own claim.
func TestLostClaimReplyStillFires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	opt, err := redis.ParseURL(b.redis.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.Start(t, opt.Addr)
	opt.Addr = p.Addr()
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	src, err := os.ReadFile("claim.lua")
	if err != nil {
		t.Fatal(err)
	}
	// Loaded, each claim is one EVALSHA naming the script.
	if err := rdb.ScriptLoad(context.Background(), string(src)).Err(); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(src)

	var rec recorder
	s := b.newSchedulerOn(rdb)
	if err := s.Add("job", "*/2 * * * * *", rec.fn); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	b.clock.WaitForWaiters(t, 1)
	p.DropReplies(hex.EncodeToString(sum[:]), 1)
	b.clock.Set(sec(2))
	b.clock.WaitForWaiters(t, 1)
	b.clock.Set(sec(4))
	b.clock.WaitForWaiters(t, 1)
	if p.Dropped() != 1 {
		t.Fatalf("%d replies dropped, want 1", p.Dropped())
	}
	sameSlots(t, rec.slots(), sec(2), sec(4))
}
