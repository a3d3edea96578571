package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Prefix is the path the dashboard is served under.
const Prefix = "/dashboard/"

// file is one embedded file, ready to serve.
type file struct {
	content     []byte
	etag        string
	contentType string
}

// Handler serves the dashboard: its page at Prefix and the page's files
// below it. Mount it for GET at Prefix. Unknown files are a 404 problem
// document. Files are revalidated on every load (no-cache with an ETag), so
// an upgraded binary shows its new dashboard at once and an unchanged one
// costs a 304.
func Handler() http.Handler {
	files, err := load()
	if err != nil {
		// The files are embedded: this is a build defect, caught by the tests.
		panic(err)
	}
	index := files["index.html"]
	csp, err := contentSecurityPolicy(index.content)
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if name == "" {
			name = "index.html"
		}
		f, found := files[name]
		if !ok || !found {
			notFound(w, r.URL.Path)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", f.contentType)
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.content))
	})
}

// load reads every embedded file under static/, by its path below it.
func load() (map[string]file, error) {
	root, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	files := map[string]file{}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[p] = file{content: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, contentType: contentType(p)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := files["index.html"]; !ok {
		return nil, fmt.Errorf("dashboard: no static/index.html embedded")
	}
	return files, nil
}

// contentType is set by extension, not sniffed: a module script is refused
// unless it is served as JavaScript, whatever the system's MIME table says.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "text/plain; charset=utf-8"
}

var importMap = regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`)

// contentSecurityPolicy lets the page run only this server's scripts, plus
// its one inline script, the import map (by its hash), and talk only to this
// server.
func contentSecurityPolicy(index []byte) (string, error) {
	m := importMap.FindSubmatch(index)
	if m == nil {
		return "", fmt.Errorf("dashboard: index.html has no import map")
	}
	sum := sha256.Sum256(m[1])
	return "default-src 'none'; base-uri 'none'; connect-src 'self'; form-action 'none'; " +
		"frame-ancestors 'none'; img-src 'self' data:; style-src 'self'; " +
		"script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'", nil
}

// notFound writes an RFC 9457 problem, as the API does for any unknown path.
func notFound(w http.ResponseWriter, p string) {
	body, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}{"about:blank", http.StatusText(http.StatusNotFound), http.StatusNotFound, "no file " + p + "; the dashboard is at " + Prefix})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(http.StatusNotFound)
	w.Write(append(body, '\n'))
}
