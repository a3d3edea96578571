package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	t.Parallel()
	rev := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "6b84e1b0a3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8"}, {Key: "vcs.modified", Value: "false"}}
	dirty := []debug.BuildSetting{{Key: "vcs.revision", Value: "6b84e1b0a3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8"}, {Key: "vcs.modified", Value: "true"}}
	for _, tc := range []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"no build info", "", nil, "dev"},
		{"stamped, no build info", "v1.2.3", nil, "v1.2.3"},
		{"go build in a checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev}, "dev (6b84e1b0a3c4)"},
		{"uncommitted changes", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: dirty}, "dev (6b84e1b0a3c4, modified)"},
		{"go install of a tag", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0"},
		{"stamped wins over the module", "v1.0.0-rc1", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}, Settings: rev}, "v1.0.0-rc1 (6b84e1b0a3c4)"},
		{"short revision", "", &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}}}, "dev (abc)"},
	} {
		if got := versionFrom(tc.stamped, tc.info); got != tc.want {
			t.Errorf("%s: versionFrom = %q, want %q", tc.name, got, tc.want)
		}
	}
}
