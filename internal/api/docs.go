package api

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// swaggerUI holds the docs page and the Swagger UI files it loads, embedded
// so that /api/docs works on a machine without internet. See
// swaggerui/README.md for their version and how to update them.
//
//go:embed swaggerui/index.html swaggerui/swagger-initializer.js swaggerui/swagger-ui-bundle.js
//go:embed swaggerui/swagger-ui.css swaggerui/favicon-32x32.png
//go:embed swaggerui/LICENSE swaggerui/NOTICE swaggerui/swagger-ui-bundle.js.LICENSE.txt
var swaggerUI embed.FS

// docsCSP lets the page run only this server's scripts and talk only to
// this server. Swagger UI sets inline styles and uses data: images in its CSS.
const docsCSP = "default-src 'none'; base-uri 'none'; connect-src 'self'; form-action 'none'; " +
	"frame-ancestors 'none'; img-src 'self' data:; script-src 'self'; style-src 'self' 'unsafe-inline'"

// docsPage serves Swagger UI's page at /api/docs.
func (a *API) docsPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", docsCSP)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, swaggerUI, "swaggerui/index.html")
}

// docsAssets serves the page's files under /api/docs/. Unknown files are a
// 404 problem, like any unknown path.
func (a *API) docsAssets() http.Handler {
	files, _ := fs.Sub(swaggerUI, "swaggerui")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/api/docs/")
		fi, err := fs.Stat(files, name)
		if err != nil || fi.IsDir() || name == "index.html" || strings.Contains(name, "/") {
			a.fail(w, r, wordf(errNoRoute, "no file %s; the API is documented at /api/docs", r.URL.Path))
			return
		}
		// The files change only with the binary; an hour of caching spares
		// 1.7 MB per page load without making an upgrade linger.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, files, name)
	})
}
