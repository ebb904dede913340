package workflow_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/templates"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// TestTickJobs: a job runs when it is due by the engine's clock (--now),
// not more often than its Every; a failing job is rolled back, recorded
// with its error (in the jobs table and in Health) and does not stop the
// jobs after it.
func TestTickJobs(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			ctx := context.Background()
			clock := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
			eng.Now = func() time.Time { return clock }
			ingest(t, eng, raw("carol@example.com", "Printer jams", "j1@x"))
			inc, _ := st.IncidentByKey(ctx, "HD-1")
			var hourly, every int
			eng.Jobs = []workflow.Job{
				{Name: "hourly", Every: time.Hour, Run: func(ctx context.Context, w *workflow.Work) error { hourly++; return nil }},
				{Name: "broken", Run: func(ctx context.Context, w *workflow.Work) error {
					// A write that must not survive the failure.
					if err := w.Tx.AddEvent(ctx, &store.Event{IncidentID: &inc.ID, Kind: "note", Actor: "test", Detail: "half done", CreatedAt: w.Now}); err != nil {
						return err
					}
					return errors.New("the provider's API is down")
				}},
				{Name: "every", Run: func(ctx context.Context, w *workflow.Work) error { every++; return nil }},
			}
			for _, step := range []time.Duration{0, 30 * time.Minute, 31 * time.Minute} {
				clock = clock.Add(step)
				if _, err := eng.Tick(ctx); err == nil || !strings.Contains(err.Error(), "job broken: the provider's API is down") {
					t.Fatalf("tick error: %v", err)
				}
			}
			if hourly != 2 || every != 3 {
				t.Errorf("runs: hourly %d (want 2), every %d (want 3)", hourly, every)
			}
			for _, e := range eventsOf(t, st, "HD-1") {
				if e.Detail == "half done" {
					t.Error("a failed job's write was committed")
				}
			}
			jobs, err := st.Jobs(ctx)
			if err != nil || len(jobs) != 3 {
				t.Fatalf("jobs: %+v %v", jobs, err)
			}
			for _, j := range jobs {
				switch j.Name {
				case "broken":
					if j.Failures != 3 || j.LastOKAt != nil || !strings.Contains(j.LastError, "API is down") {
						t.Errorf("broken job's record: %+v", j)
					}
				case "hourly":
					if j.LastOKAt == nil || !j.LastOKAt.Equal(time.Date(2026, 3, 29, 1, 31, 0, 0, time.UTC)) {
						t.Errorf("hourly job's record: %+v", j)
					}
				}
			}
			for _, h := range eng.Health() {
				if h.Name == "broken" && (h.Failures != 3 || !h.LastOK.IsZero()) || h.Name == "every" && (h.Failures != 0 || !h.LastOK.Equal(clock)) {
					t.Errorf("health: %+v", h)
				}
			}
		})
	}
}

// TestTwoDaemonsRunAJobOnce: two engines on one PostgreSQL database tick
// at the same moment; the job (due once an hour) runs in one of them only:
// the other finds its record locked and skips it.
func TestTwoDaemonsRunAJobOnce(t *testing.T) {
	u := testutil.URL(t, "postgres")
	tmpl, err := templates.Load()
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	job := workflow.Job{Name: "escalate", Every: time.Hour, Run: func(ctx context.Context, w *workflow.Work) error {
		runs.Add(1)
		time.Sleep(300 * time.Millisecond) // long enough for the other to try
		return nil
	}}
	now := time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)
	var engines []*workflow.Engine
	for i := 0; i < 2; i++ {
		eng, _ := newEngineAt(t, u, tmpl)
		eng.Now = func() time.Time { return now }
		eng.Jobs = []workflow.Job{job}
		engines = append(engines, eng)
	}
	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		for _, eng := range engines {
			wg.Add(1)
			go func(eng *workflow.Engine) {
				defer wg.Done()
				if _, err := eng.Tick(context.Background()); err != nil {
					t.Error(err)
				}
			}(eng)
		}
		wg.Wait()
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("the job ran %d times in five rounds of two daemons, want once", n)
	}
}

// newEngineAt opens a second engine on an existing database.
func newEngineAt(t *testing.T, u string, tmpl *templates.Set) (*workflow.Engine, *store.Store) {
	t.Helper()
	st := testutil.OpenURL(t, u)
	eng, _ := newEngine(t, "sqlite", "")
	eng2 := workflow.NewEngine(st, eng.Cfg, tmpl, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return eng2, st
}
