package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/templates"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// BenchmarkSummary computes and renders the weekly summary (12 weeks of
// history, the chart, HTML and text) over HELPDESKD_BENCH_SUMMARY_ROWS
// stored incidents (default 100,000; the README's figures are for
// 1,000,000: a year of about 2,700 incidents a day).
//
//	HELPDESKD_BENCH_SUMMARY_ROWS=1000000 go test -run '^$' -bench BenchmarkSummary -benchtime 3x ./cmd/helpdeskd/
func BenchmarkSummary(b *testing.B) {
	n := 100000
	if s := os.Getenv("HELPDESKD_BENCH_SUMMARY_ROWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("HELPDESKD_BENCH_SUMMARY_ROWS=%q: want a positive number", s)
		}
		n = v
	}
	for _, d := range testutil.Dialects {
		b.Run(d, func(b *testing.B) {
			u := testutil.URL(b, d)
			st := testutil.OpenURL(b, u)
			populateRegister(b, st, n)
			cfg, err := config.Parse("b.toml", []byte(strings.Replace(registerConfig, "DBURL", u, 1)+`
[[team]]
name = "it"
members = ["alice@example.com"]
[[summary]]
name = "weekly"
schedule = "mon 07:30"
to = ["management@example.com"]
`))
			if err != nil {
				b.Fatal(err)
			}
			tmpl, err := templates.Load()
			if err != nil {
				b.Fatal(err)
			}
			eng := workflow.NewEngine(st, cfg, tmpl, nil)
			at := time.Date(2026, 11, 23, 7, 30, 0, 0, time.UTC)
			b.ResetTimer()
			for b.Loop() {
				sum, r, _, err := eng.RenderSummary(context.Background(), st.Reader, cfg.SummaryNamed("weekly"), at, at, "", "cid:chart")
				if err != nil {
					b.Fatal(err)
				}
				if sum.Headline[0].Now == "0" || r.HTML == "" {
					b.Fatalf("an empty summary over %d incidents", n)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/summary")
		})
	}
}
