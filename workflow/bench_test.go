package workflow_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/helpdeskd/helpdeskd/internal/loadgen"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// BenchmarkIngest measures parse + thread + commit per message, 200
// messages per transaction, on each store. Report: msgs/s and allocs/op
// (one op = one message).
func BenchmarkIngest(b *testing.B) {
	for _, d := range testutil.Dialects {
		b.Run(d, func(b *testing.B) {
			eng, _ := newEngine(b, d, "auto_reply_limit = 1000000")
			msgs := loadgen.Messages(b.N, uint64(b.N))
			var bytes int64
			for _, m := range msgs {
				bytes += int64(len(m))
			}
			b.SetBytes(bytes / int64(len(msgs)))
			b.ReportAllocs()
			b.ResetTimer()
			for start := 0; start < len(msgs); start += 200 {
				var batch []workflow.Inbound
				for i, m := range msgs[start:min(start+200, len(msgs))] {
					batch = append(batch, workflow.Inbound{Raw: m, Source: workflow.Source{Kind: "file", Name: fmt.Sprint(start + i)}})
				}
				if _, err := eng.Ingest(context.Background(), batch, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
