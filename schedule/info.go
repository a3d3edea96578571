package schedule

import "time"

// Info describes one schedule for listing.
type Info struct {
	Name string `json:"name"`
	Spec string `json:"spec"`
	// LastRun is the last slot fired by any instance; zero if none yet.
	LastRun time.Time `json:"lastRun,omitzero"`
	// NextRun is the next slot due.
	NextRun time.Time `json:"nextRun"`
}
