package devredis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Files Server keeps in its directory, beside Redis's appendonlydir.
const (
	PIDFile = "redis-server.pid"
	LogFile = "redis-server.log"
)

// stopTimeout bounds a graceful stop of redis-server (SIGTERM, which makes
// it fsync its append-only file) before it is killed.
const stopTimeout = 30 * time.Second

// Server is a redis-server child process keeping its data in a directory.
type Server struct {
	cmd    *exec.Cmd
	addr   string
	dir    string
	log    *slog.Logger
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's result, once exited is closed
}

// LookPath returns the path of redis-server on PATH, or an error.
func LookPath() (string, error) { return exec.LookPath("redis-server") }

// StartServer starts the redis-server at path on a free loopback port with
// its data in dir (created if missing), and returns once it answers. A
// redis-server left running on dir by an eventsd that was killed is stopped
// first. Run stops it.
func StartServer(ctx context.Context, path, dir string, log *slog.Logger) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("queue state directory: %w", err)
	}
	if err := stopStale(dir, log); err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		s, err := startServer(ctx, path, dir, log)
		// Another process may take the free port before redis-server binds it.
		if err != nil && try < 3 && errors.Is(err, errPortTaken) {
			continue
		}
		return s, err
	}
}

var errPortTaken = errors.New("port taken")

func startServer(ctx context.Context, path, dir string, log *slog.Logger) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{addr: net.JoinHostPort("127.0.0.1", port), dir: dir, log: log, exited: make(chan struct{})}
	logPath := filepath.Join(dir, LogFile)
	logStart, _ := fileSize(logPath)
	s.cmd = exec.Command(path,
		"--bind", "127.0.0.1", "--port", port,
		"--dir", dir,
		"--appendonly", "yes", "--appendfsync", "everysec",
		"--save", "", // no RDB snapshots: the append-only file is the record
		"--daemonize", "no",
		"--logfile", LogFile,
	)
	s.cmd.Dir = dir
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	// The server's pid, then its owner's: ours.
	pids := fmt.Sprintf("%d %d\n", s.cmd.Process.Pid, os.Getpid())
	if err := writeFileAtomic(filepath.Join(dir, PIDFile), []byte(pids)); err != nil {
		s.stop()
		return nil, fmt.Errorf("write redis-server's pid file: %w", err)
	}

	rdb := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1})
	defer rdb.Close()
	for {
		// LOADING while it reads a large append-only file: keep asking.
		err := rdb.Ping(ctx).Err()
		if err == nil {
			return s, nil
		}
		select {
		case <-s.exited:
			os.Remove(filepath.Join(dir, PIDFile))
			tail := logTail(logPath, logStart)
			if strings.Contains(tail, "Address already in use") {
				return nil, errPortTaken
			}
			return nil, fmt.Errorf("redis-server exited at start (%v); its log, %s:\n%s", s.err, logPath, tail)
		case <-ctx.Done():
			s.stop()
			return nil, fmt.Errorf("redis-server did not answer (%v); its log is %s", err, logPath)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Run returns when ctx ends, after stopping redis-server gracefully, or with
// an error when redis-server exits of its own accord.
func (s *Server) Run(ctx context.Context) error {
	select {
	case <-s.exited:
		os.Remove(filepath.Join(s.dir, PIDFile))
		return fmt.Errorf("redis-server exited (%v); see %s", s.err, filepath.Join(s.dir, LogFile))
	case <-ctx.Done():
		return s.stop()
	}
}

// stop sends SIGTERM, which makes redis-server fsync its append-only file
// and exit, and kills it if it has not exited after stopTimeout.
func (s *Server) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.log.Warn("dev: redis-server did not stop; killing it", "timeout_ms", stopTimeout.Milliseconds())
		s.cmd.Process.Kill()
		<-s.exited
	}
	os.Remove(filepath.Join(s.dir, PIDFile))
	var ee *exec.ExitError
	if s.err != nil && !errors.As(s.err, &ee) {
		return s.err
	}
	return nil
}

// ErrInUse is returned by StartServer when the directory's redis-server
// belongs to a running eventsd.
var ErrInUse = errors.New("in use")

// stopStale stops the redis-server that dir's pid file names, if that
// process is still a redis-server: left running by an eventsd that was
// killed where the kernel does not stop children with their parent. Two
// servers on one append-only file would corrupt it. A server whose eventsd
// still runs (its parent is the owner the file names) is not stale: that
// is ErrInUse.
func stopStale(dir string, log *slog.Logger) error {
	pidPath := filepath.Join(dir, PIDFile)
	b, err := os.ReadFile(pidPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var pid, owner int
	fmt.Sscan(string(b), &pid, &owner)
	if pid <= 0 || !isRedisServer(pid) {
		return os.Remove(pidPath)
	}
	if owner > 0 && owner != os.Getpid() && parentPID(pid) == owner {
		return fmt.Errorf("%s: %w by the eventsd with pid %d (its redis-server has pid %d); "+
			"stop it, or give this one another DATA_DIR", dir, ErrInUse, owner, pid)
	}
	log.Warn("dev: stopping the redis-server left running by an earlier eventsd", "pid", pid, "dir", dir)
	p, err := os.FindProcess(pid)
	if err != nil {
		return os.Remove(pidPath)
	}
	p.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(stopTimeout)
	for alive(p) {
		if time.Now().After(deadline) {
			p.Kill()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return os.Remove(pidPath)
}

// alive reports whether p exists (a zombie child of another process counts
// as gone: it holds no files).
func alive(p *os.Process) bool {
	if p.Signal(syscall.Signal(0)) != nil {
		return false
	}
	return !isZombie(p.Pid)
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// logTail returns the last lines the log gained since it was from bytes
// long.
func logTail(path string, from int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if from <= int64(len(b)) {
		b = b[from:]
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
