package dashboard

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, h http.Handler, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandlerServesThePageAndItsFiles(t *testing.T) {
	t.Parallel()
	h := Handler()

	page := serve(t, h, "/dashboard/", nil)
	if page.Code != http.StatusOK || page.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /dashboard/: %d %q", page.Code, page.Header().Get("Content-Type"))
	}
	// The policy lets exactly the page's import map run inline.
	m := regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`).FindStringSubmatch(page.Body.String())
	if m == nil {
		t.Fatal("the page has no import map")
	}
	sum := sha256.Sum256([]byte(m[1]))
	csp := page.Header().Get("Content-Security-Policy")
	if want := "script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
		t.Errorf("CSP %q lacks %q", csp, want)
	}
	if !strings.Contains(csp, "connect-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q: want connections to this server only and nothing unsafe", csp)
	}

	js := serve(t, h, "/dashboard/app.js", nil)
	if js.Code != http.StatusOK || js.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("GET app.js: %d %q", js.Code, js.Header().Get("Content-Type"))
	}
	etag := js.Header().Get("ETag")
	if again := serve(t, h, "/dashboard/app.js", http.Header{"If-None-Match": {etag}}); etag == "" || again.Code != http.StatusNotModified {
		t.Errorf("GET app.js with If-None-Match %s: %d, want 304", etag, again.Code)
	}
	if mjs := serve(t, h, "/dashboard/vendor/preact.mjs", nil); mjs.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("preact.mjs served as %q; browsers refuse modules that are not JavaScript", mjs.Header().Get("Content-Type"))
	}

	for _, target := range []string{"/dashboard/nope.js", "/dashboard/vendor", "/dashboard/vendor/", "/dashboard/../go.mod", "/elsewhere"} {
		w := serve(t, h, target, nil)
		var p struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		if w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Status != http.StatusNotFound || p.Detail == "" {
			t.Errorf("GET %s: %d %q %s, want a 404 problem", target, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
	}
}

// The browser tests need Chromium; these checks catch a broken import or a
// remote reference with Go alone.
var (
	importRE   = regexp.MustCompile(`(?m)^\s*import\s+(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]`)
	remoteRE   = regexp.MustCompile(`(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	attrLinkRE = regexp.MustCompile(`(?:href|src)="([^"#]+)"`)
)

func TestEveryImportAndLinkResolvesToAnEmbeddedFile(t *testing.T) {
	t.Parallel()
	files, err := load()
	if err != nil {
		t.Fatal(err)
	}
	var importMap struct {
		Imports map[string]string `json:"imports"`
	}
	index := string(files["index.html"].content)
	m := regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`).FindStringSubmatch(index)
	if err := json.Unmarshal([]byte(m[1]), &importMap); err != nil {
		t.Fatalf("import map: %v", err)
	}
	resolve := func(from, spec string) string {
		if target, ok := importMap.Imports[spec]; ok {
			return path.Clean(target)
		}
		return path.Join(path.Dir(from), spec)
	}
	for name, f := range files {
		switch path.Ext(name) {
		case ".js", ".mjs":
			for _, m := range importRE.FindAllStringSubmatch(string(f.content), -1) {
				if target := resolve(name, m[1]); files[target].content == nil {
					t.Errorf("%s imports %q: no embedded file %s", name, m[1], target)
				}
			}
		}
	}
	for _, m := range attrLinkRE.FindAllStringSubmatch(index, -1) {
		if strings.HasPrefix(m[1], "../") {
			continue // the API's own pages, such as ../api/docs
		}
		if files[path.Clean(m[1])].content == nil {
			t.Errorf("index.html links %q: no such embedded file", m[1])
		}
	}
	for _, target := range importMap.Imports {
		if files[path.Clean(target)].content == nil {
			t.Errorf("the import map names %q: no such embedded file", target)
		}
	}
}

func TestOurFilesReferenceNothingRemote(t *testing.T) {
	t.Parallel()
	root, _ := fs.Sub(static, "static")
	fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "vendor/") || p == "favicon.svg" {
			return err // vendored files are checked against their npm packages; the icon names only the SVG namespace
		}
		b, _ := fs.ReadFile(root, p)
		if m := remoteRE.Find(b); m != nil {
			t.Errorf("%s references %q: the dashboard must work offline", p, m)
		}
		return nil
	})
}
