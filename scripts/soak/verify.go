package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"
)

// watched are the figures that must stay level after warm-up, with the
// column they are in and how the report shows them.
var watched = []struct {
	column, label, unit string
	scale               float64
}{
	{"redis_used_memory", "Redis used_memory", "MiB", 1 << 20},
	{"rss_bytes", "eventsd RSS", "MiB", 1 << 20},
	{"goroutines", "goroutines", "", 1},
	{"open_fds", "open file descriptors", "", 1},
}

// tolerance is how far from its mean after warm-up a watched figure may go.
const tolerance = 0.10

func verifyCmd(args []string) error {
	fs := flag.NewFlagSet("soak verify", flag.ContinueOnError)
	out := fs.String("out", "", "the directory soak run wrote (required)")
	sqlitePath := fs.String("sqlite", "", "the SQLite event store file eventsd used")
	pgURL := fs.String("postgres", "", "the PostgreSQL URL eventsd used (with its search_path)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || (*sqlitePath == "") == (*pgURL == "") {
		return errors.New("need --out and one of --sqlite or --postgres")
	}
	var res runResult
	b, err := os.ReadFile(filepath.Join(*out, "run.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return err
	}
	warmup, err := time.ParseDuration(res.Warmup)
	if err != nil {
		return err
	}
	header, rows, err := readSamples(filepath.Join(*out, "samples.csv"))
	if err != nil {
		return err
	}

	ctx := context.Background()
	var withJob, distinct int64
	if *sqlitePath != "" {
		withJob, distinct, err = countSQLite(ctx, *sqlitePath)
	} else {
		withJob, distinct, err = countPostgres(ctx, *pgURL)
	}
	if err != nil {
		return err
	}

	var rep strings.Builder
	failed := false
	check := func(ok bool, format string, args ...any) {
		mark := "ok  "
		if !ok {
			mark, failed = "FAIL", true
		}
		fmt.Fprintf(&rep, "%s %s\n", mark, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&rep, "soak: %s (warm-up %s), %d jobs/s asked, %.0f added; %d HTTP requests/s asked, %.0f sent; %d SSE clients\n",
		res.Duration, res.Warmup, res.JobsRate, res.JobsPerSec, res.HTTPRate, res.HTTPPerSec, res.SSEClients)
	fmt.Fprintf(&rep, "load average at the end: %s\n\n", res.LoadAverage)
	for _, w := range watched {
		col := indexOf(header, w.column)
		var vals []float64
		for _, r := range rows {
			if r[0] >= warmup.Seconds() {
				vals = append(vals, r[col])
			}
		}
		if len(vals) < 2 {
			check(false, "%s: %d samples after warm-up; need 2 or more", w.label, len(vals))
			continue
		}
		lo, hi, mean := stats(vals)
		dev := max(hi-mean, mean-lo) / mean
		check(dev <= tolerance, "%s after warm-up: %s–%s %s, mean %s, at most %.1f %% from the mean (limit %.0f %%)",
			w.label, show(lo/w.scale), show(hi/w.scale), w.unit, show(mean/w.scale), 100*dev, 100*tolerance)
	}
	check(res.AddErrors == 0, "job adds that failed: %d", res.AddErrors)
	check(res.HTTPErrors == 0, "HTTP requests that failed: %d of %d", res.HTTPErrors, res.HTTPDone)
	check(res.SSEErrors == 0, "SSE streams that failed to open or broke: %d (%d events received; %d resumed after the server ended them)",
		res.SSEErrors, res.SSEEvents, res.SSEResumes)
	check(res.Drained, "queue drained after the load stopped")
	check(res.JobsFailed == 0, "jobs failed: %d", res.JobsFailed)
	check(withJob == res.JobsAdded && distinct == withJob,
		"events with a job id: %d for %d jobs added (%d distinct job ids): exactly one each", withJob, res.JobsAdded, distinct)

	if err := os.WriteFile(filepath.Join(*out, "soak.svg"), []byte(plot(header, rows, warmup)), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "report.txt"), []byte(rep.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(rep.String())
	if failed {
		return errors.New("a check failed (see report.txt)")
	}
	return nil
}

func readSamples(path string) ([]string, [][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 2 {
		return nil, nil, fmt.Errorf("%s: no samples (%v)", path, err)
	}
	var rows [][]float64
	for _, rec := range recs[1:] {
		row := make([]float64, len(rec))
		for i, v := range rec {
			row[i], _ = strconv.ParseFloat(v, 64)
		}
		rows = append(rows, row)
	}
	return recs[0], rows, nil
}

func indexOf(header []string, name string) int {
	for i, h := range header {
		if h == name {
			return i
		}
	}
	panic("no column " + name)
}

func stats(vals []float64) (lo, hi, mean float64) {
	lo, hi = vals[0], vals[0]
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
		mean += v
	}
	return lo, hi, mean / float64(len(vals))
}

func show(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

const countByJob = `SELECT COUNT(*), COUNT(DISTINCT job_id) FROM events WHERE job_id IS NOT NULL`

func countSQLite(ctx context.Context, path string) (n, distinct int64, err error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	err = db.QueryRowContext(ctx, countByJob).Scan(&n, &distinct)
	return n, distinct, err
}

func countPostgres(ctx context.Context, url string) (n, distinct int64, err error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, countByJob).Scan(&n, &distinct)
	return n, distinct, err
}
