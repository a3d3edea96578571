package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress shows how a benchmark advances: a redrawn bar on a terminal,
// a plain line now and then otherwise (a log file, CI). Its Update method is
// the Progress func of the options structs. It is safe for concurrent use,
// and cheap to call in a tight loop: output is throttled.
type Progress struct {
	w     io.Writer
	tty   bool
	every time.Duration // least time between two outputs of one phase

	mu    sync.Mutex
	phase string
	done  int
	total int
	last  time.Time // last output
}

// NewProgress returns a Progress writing to w; tty says w is a terminal
// (golang.org/x/term.IsTerminal), where a bar is redrawn in place.
func NewProgress(w io.Writer, tty bool) *Progress {
	every := 2 * time.Second
	if tty {
		every = 100 * time.Millisecond
	}
	return &Progress{w: w, tty: tty, every: every}
}

// Update reports that phase is at done of total. A new phase ends the
// previous one, which is then shown complete.
func (p *Progress) Update(phase string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if phase != p.phase {
		p.finishLocked()
		p.phase = phase
		p.done, p.total = done, total
		p.showLocked(now)
		return
	}
	p.done, p.total = done, total
	if now.Sub(p.last) >= p.every {
		p.showLocked(now)
	}
}

// Finish shows the current phase complete and ends its line.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishLocked()
	p.phase = ""
}

// Stop ends the current phase's line as it is: after a failure, which
// should not look like a completed phase. After Finish it does nothing.
func (p *Progress) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.phase != "" && p.tty {
		fmt.Fprintln(p.w)
	}
	p.phase = ""
}

func (p *Progress) finishLocked() {
	if p.phase == "" {
		return
	}
	p.done = p.total
	p.showLocked(time.Now())
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

func (p *Progress) showLocked(now time.Time) {
	p.last = now
	if !p.tty {
		fmt.Fprintf(p.w, "bench: %s %d/%d (%d%%)\n", p.phase, p.done, p.total, percent(p.done, p.total))
		return
	}
	const width = 30
	fill := width * percent(p.done, p.total) / 100
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	// \r returns to the line's start; \x1b[K clears what a longer line left.
	fmt.Fprintf(p.w, "\r\x1b[K%-8s [%s] %3d%%  %d/%d", p.phase, bar, percent(p.done, p.total), p.done, p.total)
}

func percent(done, total int) int {
	if total <= 0 {
		return 100
	}
	return min(max(100*done/total, 0), 100)
}
