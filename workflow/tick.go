package workflow

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/helpdeskd/helpdeskd/store"
)

// The tick is the time-driven half of the helpdesk: every minute in the
// daemon, once in "run --once" (at --now), it runs a list of named jobs
// (escalations, reminders, digests, summaries). Each job runs in a
// transaction of its own, so one failing job does not hold back the
// others, and claims its record in the jobs table first: on PostgreSQL
// the record stays locked (FOR UPDATE SKIP LOCKED) until the job's
// transaction ends, so two daemons on one database never run the same job
// at once; on SQLite the write transaction excludes other writers. What a
// job sends carries a once-only key, so a job that runs again (a restart,
// a second daemon one tick later) finds its work done.

// Job is one named piece of the tick's work.
type Job struct {
	// Name identifies the job in the jobs table, logs and /metrics.
	Name string
	// Every is the least time between two successful runs; 0 runs the
	// job on every tick.
	Every time.Duration
	// Run does the work inside the job's transaction. It reads and
	// writes through w; what it returns nil for is committed, an error
	// rolls all of it back and is recorded as the job's failure.
	Run func(ctx context.Context, w *Work) error
}

// Work is the write-set of one job run: its transaction and the clock.
type Work struct {
	// Now is the process clock at the start of the run.
	Now time.Time
	// Tx reads and writes in the job's transaction.
	Tx *store.Tx
	u  *unit
}

// JobHealth is what this process knows of a job: when it last succeeded
// and how often it failed since.
type JobHealth struct {
	Name      string
	LastOK    time.Time // zero: not yet in this process
	LastRun   time.Time
	LastError string
	Failures  int // consecutive
	Skipped   int // runs another instance held, or that were not due, in a row
}

// jobHealth is the Engine's record of its jobs' health.
type jobHealth struct {
	mu sync.Mutex
	m  map[string]*JobHealth
}

func (h *jobHealth) get(name string) *JobHealth {
	if h.m == nil {
		h.m = map[string]*JobHealth{}
	}
	j := h.m[name]
	if j == nil {
		j = &JobHealth{Name: name}
		h.m[name] = j
	}
	return j
}

// Health returns the health of every job this engine has run, by name.
func (e *Engine) Health() []JobHealth {
	e.health.mu.Lock()
	defer e.health.mu.Unlock()
	out := make([]JobHealth, 0, len(e.Jobs))
	for _, j := range e.Jobs {
		out = append(out, *e.health.get(j.Name))
	}
	return out
}

// runJobs runs each job in its own transaction and returns how many ran
// and the first error (the others still run).
func (e *Engine) runJobs(ctx context.Context) (ran int, first error) {
	for _, j := range e.Jobs {
		did, err := e.runJob(ctx, j)
		if err != nil {
			e.Log.Warn("job failed", "job", j.Name, "error", err)
			if first == nil {
				first = fmt.Errorf("job %s: %w", j.Name, err)
			}
		}
		if did {
			ran++
		}
		if ctx.Err() != nil {
			return ran, ctx.Err()
		}
	}
	return ran, first
}

// runJob claims a job, runs it if it is due, and records the outcome.
func (e *Engine) runJob(ctx context.Context, j Job) (bool, error) {
	now := e.Now().UTC()
	if err := e.Store.EnsureJob(ctx, j.Name); err != nil {
		return false, err
	}
	ran, err := e.jobTx(ctx, j, now)
	e.health.mu.Lock()
	h := e.health.get(j.Name)
	switch {
	case err != nil:
		h.LastRun, h.LastError = now, err.Error()
		h.Failures++
	case ran:
		h.LastRun, h.LastOK, h.LastError, h.Failures, h.Skipped = now, now, "", 0, 0
	default:
		h.Skipped++
	}
	e.health.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		if ferr := e.Store.JobFailed(context.WithoutCancel(ctx), j.Name, cleanText(err.Error()), now); ferr != nil {
			e.Log.Warn("job failure not recorded", "job", j.Name, "error", ferr)
		}
	}
	return ran, err
}

// jobTx is one run of a job in its transaction; ran is false when
// another instance holds the job or it is not due.
func (e *Engine) jobTx(ctx context.Context, j Job, now time.Time) (ran bool, err error) {
	tx, err := e.Store.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	lastOK, claimed, err := tx.ClaimJob(ctx, j.Name)
	if err != nil || !claimed {
		return false, err
	}
	if j.Every > 0 && lastOK != nil && now.Before(lastOK.Add(j.Every)) {
		return false, nil
	}
	w := &Work{Now: now, Tx: tx, u: newUnit(e, tx, now)}
	if err := j.Run(ctx, w); err != nil {
		return false, err
	}
	if err := w.u.flush(ctx); err != nil {
		return false, err
	}
	if err := tx.JobDone(ctx, j.Name, now); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	if w.u.queued > 0 && e.Committed != nil {
		e.Committed()
	}
	return true, nil
}
