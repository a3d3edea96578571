package api

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// TestSwaggerUIRendersInBrowser loads /api/docs in headless Chromium with no
// network but loopback and checks that Swagger UI, served from the embedded
// assets under its content security policy, renders every documented path.
// It needs Chromium (Debian's package "chromium"); CI installs it and sets
// EVENTSD_BROWSER_TESTS=1, which turns a missing browser into a failure.
func TestSwaggerUIRendersInBrowser(t *testing.T) {
	t.Parallel()
	browser := findBrowser(t)
	b := setup(t)
	out := renderDocs(t, browser, b)
	if strings.Contains(out, "btn authorize") {
		t.Error("Swagger UI offers Authorize on a server without tokens")
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

// renderDocs loads /api/docs in headless Chromium and returns the DOM
// Swagger UI rendered.
func renderDocs(t *testing.T, browser string, b *bundle) string {
	t.Helper()
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
	return string(out)
}

// TestSwaggerUIOffersAuthorize checks, in the browser, that a server with
// tokens gets Swagger UI's Authorize button, and a lock on each guarded
// operation: Swagger UI sends the token entered there, either one, as
// "Authorization: Bearer" on those. The health check has no lock.
func TestSwaggerUIOffersAuthorize(t *testing.T) {
	t.Parallel()
	browser := findBrowser(t)
	b := setup(t, func(c *Config) { c.Token, c.ReadToken = "w", "r" })
	out := renderDocs(t, browser, b)
	if !strings.Contains(out, "btn authorize") {
		t.Fatal("Swagger UI shows no Authorize button for a server with tokens")
	}
	guarded := 0
	for _, item := range b.api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Patch, item.Delete} {
			if op != nil && len(op.Security) == 1 && op.Security[0][bearerScheme] != nil {
				guarded++
			}
		}
	}
	if locks := strings.Count(out, "authorization__btn"); locks != guarded || guarded == 0 {
		t.Errorf("Swagger UI shows %d operation locks, want one on each of the %d guarded operations", locks, guarded)
	}
}

// findBrowser returns Chromium's path, or skips the test where there is
// none, unless EVENTSD_BROWSER_TESTS=1 says it must run.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("EVENTSD_BROWSER_TESTS") == "1" {
		t.Fatal("EVENTSD_BROWSER_TESTS=1 but no Chromium on PATH")
	}
	t.Skip("no Chromium on PATH (apt-get install chromium); CI runs this test")
	return ""
}
