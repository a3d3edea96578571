package main

// The end-to-end tests start the real eventsd binary, built once per test
// run, and talk to it over HTTP as a user would. This file holds what they
// share: building the binary, starting and stopping processes, and waiting
// for conditions with a deadline. Deadlines only bound hangs; no test asserts
// how fast anything happens.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testVersion is stamped into the binary, so that `eventsd version` can be
// checked against something the test chose.
const testVersion = "v0.0.0-e2e"

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	// These tests spend their time waiting on real clocks (cron slots, job
	// leases, backoff), not on the CPU, so run more of them at once than
	// go test's default of GOMAXPROCS. An explicit -parallel wins.
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "8")
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary returns the path of the eventsd binary, building it on first use:
// with -race when this test binary has the race detector, so that a race in
// eventsd shows up in the tests that run it.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "eventsd-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "eventsd")
		args := []string{"build", "-o", binPath, "-ldflags", "-X main.version=" + testVersion}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command(goTool(), append(args, ".")...)
		cmd.Dir = sourceDir()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build eventsd: %v", buildErr)
	}
	return binPath
}

// sourceDir is this package's directory, which go test makes the working
// directory; a test binary run by hand may be elsewhere.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "."
	}
	return filepath.Dir(file)
}

// goTool finds the go command of the toolchain running the tests.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// baseEnv is the environment every eventsd process starts from: nothing of
// the test's own environment leaks in (a PORT or REDIS_URL set in the shell
// would change what is tested), except what a process needs to run.
func baseEnv() []string {
	env := []string{"LOG_LEVEL=info"}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GORACE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// lockedBuffer collects a process's stderr while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is one running eventsd process.
type proc struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, once done is closed
	// URL is the HTTP base URL, when the process serves HTTP.
	URL    string
	client *http.Client
}

// start runs `eventsd <command>` with env (settings on top of baseEnv) and
// returns once it answers /healthz. It registers a cleanup
// that stops the process and reports a data race or panic in its log. HOST
// is 127.0.0.1 and PORT a free port unless env sets them.
func start(t testing.TB, name, command string, env map[string]string) *proc {
	t.Helper()
	for try := 0; ; try++ {
		p := launch(t, name, command, env)
		err := p.waitHTTP(60 * time.Second)
		if err == nil {
			return p
		}
		// Another process may have taken the free port between our
		// probing it and eventsd binding it; try another.
		if try < 3 && p.exited() && strings.Contains(p.log.String(), "address already in use") && env["PORT"] == "" {
			continue
		}
		t.Fatalf("%s: %v\n--- %s log ---\n%s", name, err, name, p.log.String())
	}
}

func launch(t testing.TB, name, command string, env map[string]string) *proc {
	t.Helper()
	full := baseEnv()
	settings := map[string]string{"HOST": "127.0.0.1", "PORT": freePort(t)}
	for k, v := range env {
		settings[k] = v
	}
	for k, v := range settings {
		full = append(full, k+"="+v)
	}
	p := &proc{t: t, name: name, log: &lockedBuffer{}, done: make(chan struct{}),
		URL:    "http://" + net.JoinHostPort(settings["HOST"], settings["PORT"]),
		client: &http.Client{Timeout: 30 * time.Second}}
	p.cmd = exec.Command(binary(t), command)
	p.cmd.Env = full
	p.cmd.Stderr = p.log
	p.cmd.Stdout = p.log
	dieWithParent(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			p.stop(60 * time.Second)
		}
		p.checkLog()
		if t.Failed() {
			t.Logf("--- %s log ---\n%s", name, p.log.String())
		}
	})
	return p
}

// checkLog fails the test when the process reported a data race or panicked.
func (p *proc) checkLog() {
	p.t.Helper()
	log := p.log.String()
	for _, bad := range []string{"WARNING: DATA RACE", "panic:", "fatal error:"} {
		if strings.Contains(log, bad) {
			p.t.Errorf("%s: log shows %q", p.name, bad)
		}
	}
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitHTTP waits until /healthz answers 200 or the process exits.
func (p *proc) waitHTTP(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		if p.exited() {
			return fmt.Errorf("exited before serving HTTP: %v", p.err)
		}
		resp, err := c.Get(p.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 from /healthz within %s (last error: %v)", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("%s: did not exit within %s\n--- %s log ---\n%s", p.name, timeout, p.name, p.log.String())
	}
	return exitCode(p.err)
}

// stop sends SIGTERM and returns the exit code; past timeout it kills the
// process and fails the test.
func (p *proc) stop(timeout time.Duration) int {
	p.t.Helper()
	if !p.exited() {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	return p.wait(timeout)
}

// kill sends SIGKILL: the process dies without any chance to clean up.
func (p *proc) kill() {
	p.t.Helper()
	p.cmd.Process.Kill()
	<-p.done
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// eventually calls cond until it reports true, failing the test with what
// cond last said once timeout passes. The timeout only bounds a hang.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so within %s; last seen: %s", what, timeout, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runOnce runs `eventsd args...` to completion with env on top of baseEnv
// and returns its exit code, stdout and stderr.
func runOnce(t testing.TB, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = baseEnv()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("eventsd %s: still running after 60s\nstderr:\n%s", strings.Join(args, " "), stderr.String())
	}
	return exitCode(err), stdout.String(), stderr.String()
}
