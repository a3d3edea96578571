package bench

import (
	"math"
	"slices"
	"syscall"
	"time"
)

// percentiles of a latency sample, in milliseconds.
type percentiles struct{ p50, p90, p99, max float64 }

func summarize(d []time.Duration) percentiles {
	if len(d) == 0 {
		return percentiles{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p float64) float64 {
		i := int(p*float64(len(s)) + 0.5)
		i = min(max(i-1, 0), len(s)-1)
		return ms(s[i])
	}
	return percentiles{p50: at(0.50), p90: at(0.90), p99: at(0.99), max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// usage is this process's CPU time so far and its peak resident set size.
func usage() (cpu time.Duration, peakRSS int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, ru.Maxrss * 1024 // Linux reports kilobytes
}

// round rounds f to digits decimals, halves away from zero.
func round(f float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(f*p) / p
}
