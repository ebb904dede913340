package workflow

import (
	"fmt"
	"math"

	"github.com/go-analyze/charts"
)

// ChartWidth and ChartHeight are the chart's size in pixels; the HTML
// shows it at ChartWidth.
const (
	ChartWidth  = 600
	ChartHeight = 300
)

// SummaryChart renders the history of a summary as a PNG: incidents
// opened and resolved per period as bars on an axis that starts at zero,
// and the SLA met % as a line on a 0-100 axis (github.com/go-analyze/charts;
// the same input gives the same bytes).
func SummaryChart(h []HistoryPoint) ([]byte, error) {
	labels := make([]string, len(h))
	opened := make([]float64, len(h))
	resolved := make([]float64, len(h))
	pct := make([]float64, len(h))
	top := 1.0
	for i, p := range h {
		labels[i] = p.Label
		opened[i], resolved[i] = float64(p.Opened), float64(p.Resolved)
		top = math.Max(top, math.Max(opened[i], resolved[i]))
		pct[i] = p.SLAPct
		if pct[i] < 0 {
			pct[i] = charts.GetNullValue() // no counted target: no point (the table says "–")
		}
	}
	// Whole-number ticks: a top that divides into five steps.
	step := math.Max(1, math.Ceil(top/5))
	max := step * 5
	series := charts.NewSeriesListGeneric([][]float64{opened, resolved}, charts.ChartTypeBar)
	line := charts.NewSeriesListGeneric([][]float64{pct}, charts.ChartTypeLine)
	line[0].YAxisIndex = 1
	series = append(series, line...)
	names := []string{"Opened", "Resolved", "SLA met %"}
	for i := range series {
		series[i].Name = names[i]
	}
	p, err := charts.Render(charts.ChartOption{
		OutputFormat: charts.ChartOutputPNG, Width: ChartWidth, Height: ChartHeight,
		Theme: charts.GetTheme(charts.ThemeLight),
		// Every period labelled (the library skips labels it thinks
		// crowded), in a size that fits twelve.
		XAxis: charts.XAxisOption{Labels: labels, LabelCount: len(labels), LabelFontStyle: charts.FontStyle{FontSize: 9}},
		YAxis: []charts.YAxisOption{
			{Min: charts.Ptr(0.0), Max: charts.Ptr(max), LabelCount: 6, Title: "incidents",
				ValueFormatter: func(f float64) string { return fmt.Sprintf("%.0f", f) }},
			{Min: charts.Ptr(0.0), Max: charts.Ptr(100.0), LabelCount: 6, Title: "SLA met %",
				ValueFormatter: func(f float64) string { return fmt.Sprintf("%.0f", f) }},
		},
		Legend:     charts.LegendOption{SeriesNames: names},
		SeriesList: series,
	})
	if err != nil {
		return nil, fmt.Errorf("summary chart: %w", err)
	}
	return p.Bytes()
}
