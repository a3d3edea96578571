package api

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"
	"time"
)

// TestSwaggerUIRendersInBrowser loads /api/docs in headless Chromium with no
// network but loopback and checks that Swagger UI, served from the embedded
// assets under its content security policy, renders every documented path.
// It needs Chromium (Debian's package "chromium"); CI installs it and sets
// EVENTSD_BROWSER_TESTS=1, which turns a missing browser into a failure.
func TestSwaggerUIRendersInBrowser(t *testing.T) {
	t.Parallel()
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		if os.Getenv("EVENTSD_BROWSER_TESTS") == "1" {
			t.Fatal("EVENTSD_BROWSER_TESTS=1 but no Chromium on PATH")
		}
		t.Skip("no Chromium on PATH (apt-get install chromium); CI runs this test")
	}
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000",
		"--dump-dom", b.srv.URL+"/api/docs").Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	var rendered []string
	for _, m := range regexp.MustCompile(`data-path="([^"]+)"`).FindAllStringSubmatch(string(out), -1) {
		if !slices.Contains(rendered, m[1]) {
			rendered = append(rendered, m[1])
		}
	}
	var documented []string
	for path := range b.api.OpenAPI().Paths {
		documented = append(documented, path)
	}
	slices.Sort(rendered)
	slices.Sort(documented)
	if !slices.Equal(rendered, documented) {
		t.Fatalf("Swagger UI rendered paths %v, the OpenAPI document has %v", rendered, documented)
	}
}
