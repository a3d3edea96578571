//go:build race

package main

// raceEnabled says the test binary was built with -race; the eventsd binary
// the tests start is then built with -race too, so that a data race in any
// process fails the test that started it.
const raceEnabled = true
