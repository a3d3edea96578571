package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// report writes labelled figures in aligned columns.
type report struct {
	tw *tabwriter.Writer
}

func newReport(w io.Writer, title string) *report {
	fmt.Fprintln(w, title)
	return &report{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

func (r *report) line(label, format string, args ...any) {
	fmt.Fprintf(r.tw, "  %s\t%s\n", label, fmt.Sprintf(format, args...))
}

func (r *report) flush() error { return r.tw.Flush() }

// WriteText writes the result for a reader; --json prints the same figures
// as JSON.
func (r QueueResult) WriteText(w io.Writer) error {
	rep := newReport(w, fmt.Sprintf("eventsd bench queue: %s no-op jobs of %d bytes, concurrency %d, on %s",
		count(r.Jobs), r.PayloadSize, r.Concurrency, r.Redis))
	rep.line("add, bulk", "%s jobs/s", count(r.AddPerSec))
	rep.line("process", "%s jobs/s", count(r.ProcessPerSec))
	if !r.ThroughputOnly {
		rep.line("idle pickup", "p50 %s  p90 %s  p99 %s  max %s ms (added until handler start)",
			num(r.PickupP50Ms), num(r.PickupP90Ms), num(r.PickupP99Ms), num(r.PickupMaxMs))
		rep.line("PING after 5 ms idle", "p50 %s  p99 %s ms (the floor: a pickup is two such hops and two scripts)",
			num(r.IdlePingP50Ms), num(r.IdlePingP99Ms))
		rep.line("delayed 100 ms, late by", "p50 %s  p99 %s ms", num(r.DelayLateP50Ms), num(r.DelayLateP99Ms))
		rep.line("end to end", "p50 %s  p99 %s ms at %s jobs/s (added until handler end)",
			num(r.E2EP50Ms), num(r.E2EP99Ms), count(r.E2ERatePerSec))
	}
	if r.CommandsPerJob < 0 {
		rep.line("Redis commands", "not counted: the server keeps no command statistics")
	} else {
		rep.line("Redis commands per job", "%s sent while processing (%s run, scripts' included); %s to add",
			num(r.CommandsPerJob), num(r.RedisCallsPerJob), num(r.AddCommandsPerJob))
		if !r.ThroughputOnly {
			rep.line("idle Redis load", "%s commands/s sent by one idle worker (%s run)",
				num(r.IdleCommandsPerSec), num(r.IdleRedisCallsPerSec))
		}
		if r.BackgroundCommandsPerSec > 0 {
			rep.line("WARNING", "other clients ran %s commands/s on this Redis before the run; the command figures include theirs",
				num(r.BackgroundCommandsPerSec))
		}
	}
	if r.CommandsPerJob < 0 { // no INFO: an in-process server, whose CPU is this process's
		rep.line("CPU", "%s s this process, whole run (%s s while processing)", num(r.CPUSeconds), num(r.ProcessCPUSeconds))
	} else {
		rep.line("CPU", "%s s this process, whole run (%s s while processing); %s s Redis while processing",
			num(r.CPUSeconds), num(r.ProcessCPUSeconds), num(r.RedisCPUSeconds))
	}
	rep.line("peak RSS", "%s MB", mb(r.PeakRSSBytes))
	return rep.flush()
}

// WriteText writes the result for a reader.
func (r E2EResult) WriteText(w io.Writer) error {
	rep := newReport(w, fmt.Sprintf("eventsd bench e2e: %s mock-data jobs, concurrency %d, %s store, on %s",
		count(r.Jobs), r.Concurrency, r.Store, r.Redis))
	rep.line("add", "%s jobs/s (1,000 per call)", count(r.AddPerSec))
	rep.line("events stored", "%s events/s (a backlog of %s jobs; %s writes of %s events on average)",
		count(r.EventsPerSec), count(r.Jobs), count(r.StoreWrites), num(r.EventsPerWrite))
	rep.line("end to end", "p50 %s  p90 %s  p99 %s  max %s ms at %s jobs/s (added until event stored)",
		num(r.E2EP50Ms), num(r.E2EP90Ms), num(r.E2EP99Ms), num(r.E2EMaxMs), count(r.E2ERatePerSec))
	verdict := "OK: exactly one event per job"
	if !r.Verified {
		verdict = fmt.Sprintf("FAILED: %d missing, %d duplicate, %d unexpected events; %d failed jobs",
			r.MissingEvents, r.DuplicateEvents, r.UnexpectedEvents, r.FailedJobs)
	}
	rep.line("check", "%s jobs added, %s events read back: %s", count(r.JobsAdded), count(r.EventsFound), verdict)
	rep.line("CPU", "%s s this process, whole run", num(r.CPUSeconds))
	rep.line("peak RSS", "%s MB", mb(r.PeakRSSBytes))
	return rep.flush()
}

// WriteText writes the result for a reader.
func (r HTTPResult) WriteText(w io.Writer) error {
	rep := newReport(w, fmt.Sprintf("eventsd bench http: %s, concurrency %d, %s s",
		r.URL, r.Concurrency, num(r.DurationSec)))
	rep.line("all requests", "%s req/s  p50 %s  p90 %s  p99 %s  max %s ms",
		count(r.ReqPerSec), num(r.P50Ms), num(r.P90Ms), num(r.P99Ms), num(r.MaxMs))
	for _, op := range []struct {
		name string
		r    OpResult
	}{{"POST /api/events", r.Create}, {"GET /api/events/{id}", r.Get}} {
		rep.line(op.name, "%s req/s  p50 %s  p90 %s  p99 %s  max %s ms",
			count(op.r.ReqPerSec), num(op.r.P50Ms), num(op.r.P90Ms), num(op.r.P99Ms), num(op.r.MaxMs))
	}
	errs := "none"
	if r.Errors > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.ErrorsByStatus)) {
			parts = append(parts, fmt.Sprintf("%s: %d", k, r.ErrorsByStatus[k]))
		}
		errs = fmt.Sprintf("%d of %d requests (%s)", r.Errors, r.Requests, strings.Join(parts, ", "))
	}
	rep.line("errors", "%s", errs)
	rep.line("cleanup", "%s events deleted, %d not", count(r.DeletedEvents), r.CleanupErrors)
	rep.line("load generator", "%s CPU s, peak RSS %s MB", num(r.CPUSeconds), mb(r.PeakRSSBytes))
	return rep.flush()
}

// count formats a whole number with thousands separators: 12,345.
func count[N int | int64 | float64](n N) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// num formats a figure with at most three decimals.
func num(f float64) string {
	return strconv.FormatFloat(round(f, 3), 'f', -1, 64)
}

// mb formats a byte count in megabytes.
func mb(n int64) string { return strconv.FormatFloat(round(float64(n)/1e6, 1), 'f', -1, 64) }
