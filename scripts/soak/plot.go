package main

import (
	"fmt"
	"strings"
	"time"
)

// plot draws each watched figure over time, one panel each, as an SVG: the
// samples as a line, the warm-up shaded, and the ±10 % band around the
// mean after warm-up.
func plot(header []string, rows [][]float64, warmup time.Duration) string {
	const (
		width, panelH, left, right, top, gap = 760.0, 150.0, 80.0, 20.0, 30.0, 40.0
	)
	plotW := width - left - right
	height := top + float64(len(watched))*(panelH+gap)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="18" font-size="13">eventsd soak: every 10 s; shaded: warm-up; dashed: mean ±10 %% after warm-up</text>`+"\n", left)
	tMax := rows[len(rows)-1][0]
	if tMax <= 0 {
		tMax = 1
	}
	x := func(t float64) float64 { return left + plotW*t/tMax }
	for i, w := range watched {
		col := indexOf(header, w.column)
		y0 := top + float64(i)*(panelH+gap)
		var vals, after []float64
		for _, r := range rows {
			vals = append(vals, r[col]/w.scale)
			if r[0] >= warmup.Seconds() {
				after = append(after, r[col]/w.scale)
			}
		}
		lo, hi, _ := stats(vals)
		mean := 0.0
		if len(after) > 0 {
			_, _, mean = stats(after)
			lo, hi = min(lo, mean*(1-tolerance)), max(hi, mean*(1+tolerance))
		}
		if hi == lo {
			hi, lo = hi+1, lo-1
		}
		pad := (hi - lo) * 0.05
		lo, hi = lo-pad, hi+pad
		y := func(v float64) float64 { return y0 + panelH - panelH*(v-lo)/(hi-lo) }

		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`+"\n", left, y0, plotW, panelH)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#eee"/>`+"\n", left, y0, max(0, x(min(warmup.Seconds(), tMax))-left), panelH)
		title := w.label
		if w.unit != "" {
			title += " (" + w.unit + ")"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-weight="bold">%s</text>`+"\n", left, y0-6, title)
		for _, v := range []float64{lo + pad, hi - pad} {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(v)+4, show(roundTo(v)))
		}
		if len(after) > 0 {
			for _, v := range []float64{mean * (1 - tolerance), mean, mean * (1 + tolerance)} {
				fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#c33" stroke-dasharray="4 3"/>`+"\n",
					x(warmup.Seconds()), left+plotW, y(v), y(v))
			}
		}
		var pts []string
		for j, r := range rows {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(r[0]), y(vals[j])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f5fbf" stroke-width="1.5" points="%s"/>`+"\n", strings.Join(pts, " "))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s s</text>`+"\n", left+plotW, y0+panelH+14, show(roundTo(tMax)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">0 s</text>`+"\n", left, y0+panelH+14)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func roundTo(v float64) float64 {
	if v >= 100 || v <= -100 {
		return float64(int64(v))
	}
	return float64(int64(v*10)) / 10
}
