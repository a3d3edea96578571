package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestDashboardRoutes checks the API's part of the dashboard: / leads to it,
// it is served, and its unknown files are 404 problems like any unknown
// path. The dashboard itself is tested in internal/dashboard.
func TestDashboardRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(b.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/dashboard/" {
		t.Errorf("GET /: %d to %q, want 302 to /dashboard/", res.StatusCode, res.Header.Get("Location"))
	}
	page := b.get(t, "/dashboard/")
	if page.status != http.StatusOK || !strings.Contains(string(page.body), `<script type="module" src="app.js">`) {
		t.Errorf("GET /dashboard/: %d %.200s", page.status, page.body)
	}
	wantProblem(t, b.get(t, "/dashboard/nope.js"), http.StatusNotFound)
	wantProblem(t, b.do(t, http.MethodPost, "/dashboard/", nil), http.StatusMethodNotAllowed)
}
