package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDeployFilesNameRealMetrics: every eventsd metric that the shipped
// alert rules (deploy/prometheus/alerts.yml and its unit tests) and Grafana
// dashboard (deploy/grafana/eventsd.json) name exists in a real eventsd's
// /metrics, once it has run jobs, answered requests and served an SSE
// stream. A renamed metric would otherwise leave an alert that never fires
// and a panel that shows nothing. That the expressions parse and the alerts
// fire is promtool's part (.ci/run).
func TestDeployFilesNameRealMetrics(t *testing.T) {
	t.Parallel()
	named := map[string][]string{} // metric -> files naming it
	token := regexp.MustCompile(`\beventsd_[a-z0-9_]+`)
	for _, f := range []string{"deploy/prometheus/alerts.yml", "deploy/prometheus/alerts_test.yml", "deploy/grafana/eventsd.json"} {
		b, err := os.ReadFile(filepath.Join(sourceDir(), "..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range token.FindAllString(string(b), -1) {
			named[m] = append(named[m], f)
		}
	}
	if len(named) < 10 {
		t.Fatalf("the deploy files name only %d metrics: %v", len(named), named)
	}

	p := start(t, "dev", "dev", map[string]string{"DATA_DIR": t.TempDir()})
	// An SSE stream that sends an event and ends, an ordinary request, and
	// the mock-data schedule's jobs (every 2 s in dev) running.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/jobs/events?after=0", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	scan := bufio.NewScanner(res.Body)
	for scan.Scan() && !strings.HasPrefix(scan.Text(), "data: ") {
	}
	cancel()
	res.Body.Close()
	p.do("GET", "/api/events", "")

	var exposed map[string]bool
	eventually(t, 60*time.Second, "every metric the deploy files name", func() (bool, string) {
		exposed = map[string]bool{}
		for line := range strings.Lines(string(p.do("GET", "/metrics", "").Body)) {
			if name, _, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
				name, _, _ = strings.Cut(name, "{")
				exposed[name] = true
			}
		}
		var missing []string
		for m := range named {
			if !exposed[m] {
				missing = append(missing, m)
			}
		}
		return len(missing) == 0, "missing from /metrics: " + strings.Join(missing, ", ")
	})
}
