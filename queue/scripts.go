package queue

import (
	"context"
	"embed"
	"errors"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// Every state change is one Lua script, so a crash between two commands never
// leaves a job in two states or in none. Each script is common.lua followed by
// its own file.
var (
	scriptAdd      = loadScript("add")
	scriptFetch    = loadScript("fetch")
	scriptAck      = loadScript("ack")
	scriptExtend   = loadScript("extend")
	scriptRelease  = loadScript("release")
	scriptProgress = loadScript("progress")
	scriptGet      = loadScript("get")
	scriptList     = loadScript("list")
	scriptCounts   = loadScript("counts")
	scriptRemove   = loadScript("remove")
	scriptRetry    = loadScript("retry")
	scriptPromote  = loadScript("promote")
	scriptPause    = loadScript("pause")
	scriptCancel   = loadScript("cancel")
	scriptClean    = loadScript("clean")
)

func loadScript(name string) *redis.Script {
	common, err := luaFiles.ReadFile("lua/common.lua")
	if err != nil {
		panic(err)
	}
	body, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	return redis.NewScript(string(common) + "\n" + string(body))
}

// run runs a script with the queue's keys; ARGV[1] is the events cap.
func (q *Queue) run(ctx context.Context, s *redis.Script, args ...any) *redis.Cmd {
	argv := make([]any, 0, len(args)+1)
	argv = append(argv, q.eventsMax)
	argv = append(argv, args...)
	return s.Run(ctx, q.rdb, q.keys, argv...)
}

// runPipelined runs one script once per argument list in a single round trip.
// Calls refused with NOSCRIPT (the server lost its script cache) were not
// executed and are run again one by one, which loads the script.
func (q *Queue) runPipelined(ctx context.Context, s *redis.Script, argLists [][]any) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(argLists))
	pipe := q.rdb.Pipeline()
	for i, args := range argLists {
		argv := append([]any{q.eventsMax}, args...)
		cmds[i] = s.EvalSha(ctx, pipe, q.keys, argv...)
	}
	_, err := pipe.Exec(ctx)
	if err == nil {
		return cmds, nil
	}
	for i, cmd := range cmds {
		if e := cmd.Err(); e != nil && isNoScript(e) {
			cmds[i] = q.run(ctx, s, argLists[i]...)
		}
	}
	for _, cmd := range cmds {
		if e := cmd.Err(); e != nil {
			return cmds, e
		}
	}
	return cmds, nil
}

func isNoScript(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && redis.HasErrorPrefix(err, "NOSCRIPT")
}
