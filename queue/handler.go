package queue

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Handler runs jobs. It has net/http's shape: a worker calls ProcessJob once
// per attempt; the returned value is stored as the job's result (encoded as
// JSON; a value that cannot be fails the job, unless the job keeps nothing
// once completed, RemoveOnComplete's default) and a non-nil error fails the
// attempt. Wrap an error with SkipRetry to
// fail the job for good, or with RetryAfter to choose the next attempt's time.
//
// The context is cancelled when the job is cancelled (cause ErrCancelled),
// when its timeout passes, when the worker loses the job's lease, and when a
// shutdown outlasts the worker's ShutdownTimeout (cause ErrLeaseLost). Handlers
// must be safe to run more than once for a job: delivery is at least once.
type Handler interface {
	ProcessJob(ctx context.Context, job *Job) (any, error)
}

// HandlerFunc lets a function be a Handler.
type HandlerFunc func(ctx context.Context, job *Job) (any, error)

// ProcessJob calls f.
func (f HandlerFunc) ProcessJob(ctx context.Context, job *Job) (any, error) { return f(ctx, job) }

// Mux routes jobs to handlers by job name. A job whose name has no handler
// fails at once, without retry, with an error that names the job names the
// Mux knows.
type Mux struct {
	mu sync.RWMutex
	m  map[string]Handler
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{m: make(map[string]Handler)} }

// Handle registers h for jobs named name. It panics if name is empty or
// already registered, as http.ServeMux does.
func (m *Mux) Handle(name string, h Handler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if name == "" || h == nil {
		panic("queue: Mux.Handle needs a name and a handler")
	}
	if _, dup := m.m[name]; dup {
		panic("queue: Mux.Handle: a handler for " + name + " exists")
	}
	m.m[name] = h
}

// HandleFunc registers f for jobs named name.
func (m *Mux) HandleFunc(name string, f func(ctx context.Context, job *Job) (any, error)) {
	m.Handle(name, HandlerFunc(f))
}

// ProcessJob runs the handler registered for job.Name.
func (m *Mux) ProcessJob(ctx context.Context, job *Job) (any, error) {
	m.mu.RLock()
	h, ok := m.m[job.Name]
	m.mu.RUnlock()
	if !ok {
		return nil, SkipRetry(fmt.Errorf("unknown job name %q: this worker runs only %s; the job fails without retry",
			job.Name, m.names()))
	}
	return h.ProcessJob(ctx, job)
}

// names lists the registered job names, sorted and quoted.
func (m *Mux) names() string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := make([]string, 0, len(m.m))
	for name := range m.m {
		names = append(names, fmt.Sprintf("%q", name))
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "no jobs (no handler is registered)"
	}
	return strings.Join(names, ", ")
}
