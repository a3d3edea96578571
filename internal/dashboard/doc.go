// Package dashboard serves eventsd's web dashboard: a page at /dashboard/
// and the files it loads, all embedded in the binary with go:embed, so it
// works offline and needs no front-end build. The files in static/ are what
// the browser runs: plain ES modules written for the browser, and in
// static/vendor small libraries copied unchanged from their npm packages
// (Preact, htm, uPlot, cronstrue; e2e/vendor.mjs copies them and checks that
// they match package-lock.json).
//
// The page talks only to the public REST API under /api and to the job
// lifecycle stream GET /api/jobs/events, so everything it shows or does can
// be done with curl. It reads the stream with fetch rather than EventSource,
// because EventSource cannot send an Authorization header.
//
// The package imports nothing of eventsd's: the API mounts Handler at
// /dashboard/. The browser tests live in e2e/ (npm test there); they start
// a real `eventsd dev` and drive Debian's Chromium with playwright-core.
package dashboard
