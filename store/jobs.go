package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Job is the record of one of the tick's named jobs.
type Job struct {
	Name      string     `db:"name" json:"name"`
	LastOKAt  *time.Time `db:"last_ok_at" json:"last_ok_at"`
	LastError string     `db:"last_error" json:"last_error"`
	Failures  int        `db:"failures" json:"failures"`
	UpdatedAt *time.Time `db:"updated_at" json:"updated_at"`
}

// EnsureJob creates a job's record if it has none.
func (r Reader) EnsureJob(ctx context.Context, name string) error {
	if _, err := r.x.ExecContext(ctx, r.s.q("job-ensure"), name); err != nil {
		return fmt.Errorf("store: job %s: %w", name, err)
	}
	return nil
}

// ClaimJob locks a job's record for the rest of the transaction and
// returns when it last succeeded. claimed is false when another
// transaction holds it (PostgreSQL: FOR UPDATE SKIP LOCKED) or it has no
// record (EnsureJob first).
func (r Reader) ClaimJob(ctx context.Context, name string) (lastOK *time.Time, claimed bool, err error) {
	err = sqlx.GetContext(ctx, r.x, &lastOK, r.s.q("job-claim"), name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: claim job %s: %w", name, err)
	}
	return lastOK, true, nil
}

// JobDone records a job's success at now.
func (r Reader) JobDone(ctx context.Context, name string, now time.Time) error {
	if _, err := r.x.ExecContext(ctx, r.s.q("job-done"), utc(now), utc(now), name); err != nil {
		return fmt.Errorf("store: job %s done: %w", name, err)
	}
	return nil
}

// JobFailed records a job's failure at now with its error.
func (r Reader) JobFailed(ctx context.Context, name, why string, now time.Time) error {
	if _, err := r.x.ExecContext(ctx, r.s.q("job-failed"), why, utc(now), name); err != nil {
		return fmt.Errorf("store: job %s failed: %w", name, err)
	}
	return nil
}

// Jobs lists the jobs' records by name.
func (r Reader) Jobs(ctx context.Context) ([]Job, error) {
	var out []Job
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("jobs")); err != nil {
		return nil, fmt.Errorf("store: jobs: %w", err)
	}
	return out, nil
}
