package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// Dependency statuses.
const (
	statusUp   = "up"
	statusDown = "down"
)

type healthBody struct {
	Status       string                    `json:"status" enum:"up,down" doc:"down when any dependency is down."`
	Version      string                    `json:"version" example:"1.0.0"`
	Dependencies map[string]dependencyView `json:"dependencies" doc:"Each dependency by name: redis, and mongodb, postgres or sqlite."`
}

type dependencyView struct {
	Status    string  `json:"status" enum:"up,down"`
	LatencyMs float64 `json:"latencyMs" doc:"How long the ping took, in milliseconds."`
	Error     string  `json:"error,omitempty" doc:"Why the dependency is down."`
}

// checkAll pings every dependency at once, each within CheckTimeout, and
// reports whether all are up.
func (a *API) checkAll(ctx context.Context) (map[string]dependencyView, bool) {
	deps := make(map[string]dependencyView, len(a.cfg.Checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range a.cfg.Checks {
		wg.Go(func() {
			v := a.ping(ctx, c)
			mu.Lock()
			deps[c.Name] = v
			mu.Unlock()
		})
	}
	wg.Wait()
	ok := true
	for _, v := range deps {
		ok = ok && v.Status == statusUp
	}
	return deps, ok
}

// ping runs one check. A panicking check is a down dependency, not a dead
// process: it runs on its own goroutine, out of reach of recoverPanics.
func (a *API) ping(ctx context.Context, c Check) (v dependencyView) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
	defer cancel()
	start := time.Now()
	defer func() {
		if rec := recover(); rec != nil {
			a.log.ErrorContext(ctx, "health check panicked", "check", c.Name, "panic", rec)
			v = dependencyView{Status: statusDown, Error: "check panicked"}
		}
		v.LatencyMs = float64(time.Since(start).Microseconds()) / 1000
	}()
	if err := c.Ping(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return dependencyView{Status: statusDown, Error: fmt.Sprintf("no answer within %s", a.cfg.CheckTimeout)}
		}
		return dependencyView{Status: statusDown, Error: err.Error()}
	}
	return dependencyView{Status: statusUp}
}

// GET /api/events/health

func (a *API) eventsHealthOp() huma.Operation {
	schema := a.huma.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[healthBody](), true, "")
	return huma.Operation{
		OperationID: "getHealth",
		Summary:     "Check the service and its dependencies",
		Description: "Pings each dependency (Redis, and MongoDB, PostgreSQL or SQLite) and reports each up or down with " +
			"its latency. Answers 200 when all are up, else 503 with the same body.",
		Tags: []string{"events"},
		Responses: map[string]*huma.Response{
			"503": {
				Description: "A dependency is down.",
				Content:     map[string]*huma.MediaType{"application/json": {Schema: schema}},
			},
		},
	}
}

type healthOutput struct {
	Status int
	Body   healthBody
}

func (a *API) eventsHealth(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	deps, ok := a.checkAll(ctx)
	out := &healthOutput{Status: http.StatusOK, Body: healthBody{Status: statusUp, Version: a.cfg.Version, Dependencies: deps}}
	if !ok {
		out.Status = http.StatusServiceUnavailable
		out.Body.Status = statusDown
	}
	return out, nil
}

// GET /healthz

var livenessOp = huma.Operation{
	OperationID: "liveness",
	Summary:     "Liveness",
	Description: "Answers 200 while the process serves HTTP; it checks no dependency, so that an orchestrator " +
		"does not restart eventsd because Redis or the store is down.",
	Tags: []string{"operations"},
}

type statusBody struct {
	Status string `json:"status" example:"up"`
}

type statusOutput struct{ Body statusBody }

func (a *API) liveness(context.Context, *struct{}) (*statusOutput, error) {
	out := &statusOutput{}
	out.Body.Status = statusUp
	return out, nil
}

// GET /readyz

var readinessOp = huma.Operation{
	OperationID: "readiness",
	Summary:     "Readiness",
	Description: "Answers 200 when every dependency answers a ping within a short timeout, else a 503 problem " +
		"listing the ones that failed.",
	Tags: []string{"operations"},
}

func (a *API) readiness(ctx context.Context, _ *struct{}) (*statusOutput, error) {
	deps, ok := a.checkAll(ctx)
	if !ok {
		var names []string
		for name, v := range deps {
			if v.Status != statusUp {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		err := &clientError{msg: "not ready: " + strings.Join(names, ", ") + " down", err: errUnavailable}
		for _, name := range names {
			err.details = append(err.details, &huma.ErrorDetail{Location: name, Message: deps[name].Error})
		}
		return nil, err
	}
	return a.liveness(ctx, nil)
}
