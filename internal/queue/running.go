package queue

// running ties a job handed to a handler to the worker running it.
type running struct {
	w     *Worker
	token int64
}

// Worker fetches jobs from one queue and runs them.
type Worker struct{}
