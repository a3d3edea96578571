package config

import (
	"cmp"
	"fmt"
	"io"
	"text/tabwriter"
)

// Usage prints every setting to w: its flag, environment variable, default
// and meaning. It is what "eventsd help" shows.
func Usage(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Settings come from environment variables; a flag wins over its variable.")
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "  FLAG\tENV\tDEFAULT\tMEANING")
	for _, s := range settings() {
		def := cmp.Or(s.def, s.shownDef)
		switch {
		case def == "":
			def = "-"
		case s.devDef != "":
			def += " (dev: " + s.devDef + ")"
		}
		fmt.Fprintf(tw, "  --%s\t%s\t%s\t%s\n", s.flag(), s.env, def, s.usage)
	}
	return tw.Flush()
}
