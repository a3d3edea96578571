package bench

import (
	"strings"
	"testing"
)

func TestProgressPlainLines(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	p := NewProgress(&b, false)
	for i := range 1000 {
		p.Update("add", i, 1000)
	}
	p.Update("process", 0, 50)
	p.Update("process", 25, 50)
	p.Finish()
	want := "bench: add 0/1000 (0%)\n" +
		"bench: add 1000/1000 (100%)\n" + // a new phase shows the last one complete
		"bench: process 0/50 (0%)\n" +
		"bench: process 50/50 (100%)\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant (throttled to phase changes within 2 s)\n%s", b.String(), want)
	}
	p.Finish()
	p.Stop()
	if b.String() != want {
		t.Fatal("Finish or Stop after Finish wrote more")
	}
}

func TestProgressBar(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	p := NewProgress(&b, true)
	p.Update("idle", 5, 10)
	p.Stop()
	got := b.String()
	if !strings.HasPrefix(got, "\r\x1b[Kidle     [===============               ]  50%  5/10") || !strings.HasSuffix(got, "\n") {
		t.Fatalf("bar = %q", got)
	}
	if strings.Contains(got, "100%") {
		t.Fatal("Stop showed the phase complete")
	}
}

func TestPercentBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ done, total, want int }{{0, 0, 100}, {-1, 10, 0}, {11, 10, 100}, {1, 3, 33}} {
		if got := percent(tc.done, tc.total); got != tc.want {
			t.Errorf("percent(%d, %d) = %d, want %d", tc.done, tc.total, got, tc.want)
		}
	}
}
