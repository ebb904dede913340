package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// FingerprintSource is what an incident's fingerprint is made from: its
// subject and the new text of its first incoming message.
type FingerprintSource struct {
	ID          int64     `db:"id"`
	CreatedAt   time.Time `db:"created_at"`
	Subject     string    `db:"subject"`
	Fingerprint string    `db:"fingerprint"`
	Text        string    `db:"text"` // the first incoming message's new text ("" when it has none)
}

// FingerprintSources returns the incidents created after since that have
// a fingerprint, in id order after afterID, at most limit.
func (r Reader) FingerprintSources(ctx context.Context, since time.Time, afterID int64, limit int) ([]FingerprintSource, error) {
	var out []FingerprintSource
	err := sqlx.SelectContext(ctx, r.x, &out, r.x.Rebind(`SELECT i.id, i.created_at, i.subject, i.fingerprint,
    COALESCE((SELECT CASE WHEN m.new_text <> '' THEN m.new_text ELSE m.text_body END FROM messages m
        WHERE m.incident_id = i.id AND m.direction = 'in' ORDER BY m.id LIMIT 1), '') AS text
FROM incidents i
WHERE i.created_at > ? AND i.id > ? AND i.fingerprint <> ''
ORDER BY i.id LIMIT ?`), utc(since), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: incidents to fingerprint: %w", err)
	}
	for i := range out {
		out[i].CreatedAt = out[i].CreatedAt.UTC()
	}
	return out, nil
}

// ReplaceFingerprints gives incidents new fingerprints (fingerprint
// and created_at of each Incident are read) and indexes their words
// afresh.
func (r Reader) ReplaceFingerprints(ctx context.Context, incs []*Incident) error {
	if len(incs) == 0 {
		return nil
	}
	ids := make([]any, len(incs))
	for i, inc := range incs {
		if _, err := r.x.ExecContext(ctx, r.x.Rebind(`UPDATE incidents SET fingerprint = ? WHERE id = ?`), inc.Fingerprint, inc.ID); err != nil {
			return fmt.Errorf("store: fingerprint of incident %d: %w", inc.ID, err)
		}
		ids[i] = inc.ID
	}
	// One statement per call: callers give a few hundred incidents.
	q := `DELETE FROM incident_tokens WHERE incident_id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	if _, err := r.x.ExecContext(ctx, r.x.Rebind(q), ids...); err != nil {
		return fmt.Errorf("store: drop the word index of %d incidents: %w", len(ids), err)
	}
	return r.InsertIncidentTokens(ctx, incs)
}

// ProblemFingerprint is a problem's new fingerprint.
type ProblemFingerprint struct {
	ID          int64
	Fingerprint string
}

// SetProblemFingerprints gives problems new fingerprints.
func (r Reader) SetProblemFingerprints(ctx context.Context, ps []ProblemFingerprint) error {
	for _, p := range ps {
		if _, err := r.x.ExecContext(ctx, r.x.Rebind(`UPDATE problems SET fingerprint = ? WHERE id = ?`), p.Fingerprint, p.ID); err != nil {
			return fmt.Errorf("store: fingerprint of problem %d: %w", p.ID, err)
		}
	}
	return nil
}

// RenameFingerprints replaces, in the "#not-problem" pairs, each
// fingerprint that renamed holds by its new form. A pair that the
// renaming makes a duplicate of another is kept once; one it makes a
// fingerprint's pair with itself is dropped. It returns how many pairs
// it renamed.
func (r Reader) RenameFingerprints(ctx context.Context, renamed map[string]string) (int, error) {
	if len(renamed) == 0 {
		return 0, nil
	}
	n := 0
	var pairs []struct {
		Fingerprint string    `db:"fingerprint"`
		Other       string    `db:"other"`
		Actor       string    `db:"actor"`
		CreatedAt   time.Time `db:"created_at"`
	}
	if err := sqlx.SelectContext(ctx, r.x, &pairs, `SELECT fingerprint, other, actor, created_at FROM problem_exclusions`); err != nil {
		return n, fmt.Errorf("store: #not-problem pairs: %w", err)
	}
	// Every renamed pair is dropped before any is written back, so that
	// a pair renamed into the old form of another is not lost with it.
	type change struct {
		from, to [2]string
		actor    string
		at       time.Time
	}
	var changes []change
	for _, p := range pairs {
		to := [2]string{p.Fingerprint, p.Other}
		for i, f := range to {
			if nf, ok := renamed[f]; ok {
				to[i] = nf
			}
		}
		if from := [2]string{p.Fingerprint, p.Other}; to != from {
			changes = append(changes, change{from, to, p.Actor, p.CreatedAt})
		}
	}
	for _, c := range changes {
		if _, err := r.x.ExecContext(ctx, r.x.Rebind(`DELETE FROM problem_exclusions WHERE fingerprint = ? AND other = ?`), c.from[0], c.from[1]); err != nil {
			return n, fmt.Errorf("store: rename a #not-problem pair: %w", err)
		}
	}
	for _, c := range changes {
		if c.to[0] == c.to[1] {
			// Renamed into one fingerprint: a fingerprint is never
			// parted from itself (that would stop a problem catching
			// reports identical to its own title), so the pair goes.
			continue
		}
		if _, err := r.x.ExecContext(ctx, r.x.Rebind(`INSERT INTO problem_exclusions (fingerprint, other, actor, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT DO NOTHING`), c.to[0], c.to[1], c.actor, utc(c.at)); err != nil {
			return n, fmt.Errorf("store: rename a #not-problem pair: %w", err)
		}
		n++
	}
	return n, nil
}
