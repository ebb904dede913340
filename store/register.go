package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// RegisterRow is one incident of the register: the incident with its
// problem's key (Incident.ProblemKey) and RepeatOf, the key of the first
// incident of the same problem when this one is a later occurrence.
type RegisterRow struct {
	Incident
	RepeatOf *string `db:"repeat_of"`
}

// registerBounds are the default bounds of a register: everything.
var (
	registerMin = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	registerMax = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

func registerRange(from, to time.Time) (time.Time, time.Time) {
	if from.IsZero() {
		from = registerMin
	}
	if to.IsZero() {
		to = registerMax
	}
	return from.UTC(), to.UTC()
}

// EachRegisterIncident calls fn for every incident opened at or after
// from and before to (zero: unbounded), oldest first, reading them
// through a database cursor: memory stays constant whatever the number of
// rows. The row passed to fn is reused for the next call; fn must copy
// what it keeps. An error from fn stops the walk and is returned.
//
// assignee, when not empty, keeps only that party's incidents (a scoped
// summary's attachment), and RepeatOf names only its own incidents.
func (r Reader) EachRegisterIncident(ctx context.Context, from, to time.Time, assignee string, fn func(*RegisterRow) error) error {
	from, to = registerRange(from, to)
	rows, err := r.x.QueryxContext(ctx, r.s.q("register-incidents"), assignee, assignee, from, to, assignee, assignee)
	if err != nil {
		return fmt.Errorf("store: register incidents: %w", err)
	}
	defer rows.Close()
	var row RegisterRow
	for rows.Next() {
		row = RegisterRow{}
		if err := rows.StructScan(&row); err != nil {
			return fmt.Errorf("store: register incidents: %w", err)
		}
		if err := fn(&row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: register incidents: %w", err)
	}
	return nil
}

// EachRegisterProblem calls fn for every problem created at or after
// from and before to, or linked to an incident opened then (zero bounds:
// every problem), oldest first, through a cursor, with IncidentCount set
// to all its linked incidents. The Problem passed to fn is reused.
// assignee, when not empty, keeps only problems one of that party's
// incidents is linked to, titled after that party's first incident of it
// and counting only that party's incidents.
func (r Reader) EachRegisterProblem(ctx context.Context, from, to time.Time, assignee string, fn func(*Problem) error) error {
	from, to = registerRange(from, to)
	rows, err := r.x.QueryxContext(ctx, r.s.q("register-problems"), assignee, assignee, assignee, assignee, from, to, from, to, assignee, assignee, from, to)
	if err != nil {
		return fmt.Errorf("store: register problems: %w", err)
	}
	defer rows.Close()
	return eachProblem(rows, fn)
}

func eachProblem(rows *sqlx.Rows, fn func(*Problem) error) error {
	var p Problem
	for rows.Next() {
		p = Problem{}
		if err := rows.StructScan(&p); err != nil {
			return fmt.Errorf("store: register problems: %w", err)
		}
		if err := fn(&p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: register problems: %w", err)
	}
	return nil
}
