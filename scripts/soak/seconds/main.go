// Command seconds prints a Go duration ("10m", "90s") in whole seconds, for
// scripts/soak.sh.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: seconds DURATION")
		os.Exit(2)
	}
	d, err := time.ParseDuration(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "seconds:", err)
		os.Exit(2)
	}
	fmt.Println(int64(d.Seconds()))
}
