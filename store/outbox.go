package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
)

// Claimer names the process that holds outbox claims: the host name,
// the process id and a nonce drawn when the process started (so that a
// restarted process that got the same pid, as in a container, is told
// apart from its predecessor).
type Claimer struct {
	Host     string `db:"claimed_host"`
	PID      int    `db:"claimed_pid"`
	Instance string `db:"claimed_instance"`
}

// ClaimOutbox takes up to n rows that are due (queued and due now, or
// claimed by a sender whose lease ran out: it crashed) and leases them
// to by until now+lease. On PostgreSQL several instances can claim at
// once; SKIP LOCKED hands each row to one of them.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, n int, by Claimer) ([]Outbox, error) {
	var rows []Outbox
	err := s.InTx(ctx, func(tx *Tx) error {
		return sqlx.SelectContext(ctx, tx.x, &rows, s.q("claim-outbox"), utc(now.Add(lease)),
			by.Host, by.PID, by.Instance, utc(now), utc(now), n)
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	// RETURNING has no order; send in queue order.
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return rows, nil
}

// OutboxSent records deliveries and adds their events in one
// transaction (the mailer commits, as one group, what its connections
// delivered while the previous group was being written).
func (s *Store) OutboxSent(ctx context.Context, os []*Outbox, at time.Time, evs []*Event) error {
	ids := make([]int64, len(os))
	for i, o := range os {
		ids[i] = o.ID
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		if s.dialect == Postgres {
			if _, err := tx.x.ExecContext(ctx, s.q("sent-without-flush")); err != nil {
				return fmt.Errorf("store: outbox sent: %w", err)
			}
		}
		if _, err := tx.x.ExecContext(ctx, s.q("outbox-sent"), utc(at), string(list)); err != nil {
			return fmt.Errorf("store: outbox sent: %w", err)
		}
		return tx.AddEvents(ctx, evs)
	})
}

// ReleaseOutbox puts rows that by claimed but did not try to send back
// in the queue, due as they were, and takes back the attempt the claim
// counted. Rows no longer claimed by by (sent, or taken over after the
// lease) are left alone. It returns how many rows were released.
func (s *Store) ReleaseOutbox(ctx context.Context, ids []int64, by Claimer) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, s.q("outbox-release"), string(list), by.Host, by.PID, by.Instance)
	if err != nil {
		return 0, fmt.Errorf("store: release outbox claims: %w", err)
	}
	return res.RowsAffected()
}

// OutboxClaimers lists the processes of host that hold outbox claims.
func (s *Store) OutboxClaimers(ctx context.Context, host string) ([]Claimer, error) {
	var out []Claimer
	if err := sqlx.SelectContext(ctx, s.db, &out, s.q("outbox-claimers"), host); err != nil {
		return nil, fmt.Errorf("store: outbox claimers: %w", err)
	}
	return out, nil
}

// ReleaseOrphanedClaims puts every row claimed by c, a process that is
// gone, back in the queue at once, due as it was; it returns how many.
func (s *Store) ReleaseOrphanedClaims(ctx context.Context, c Claimer) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q("outbox-release-orphans"), c.Host, c.PID, c.Instance)
	if err != nil {
		return 0, fmt.Errorf("store: release claims of %s pid %d: %w", c.Host, c.PID, err)
	}
	return res.RowsAffected()
}

// OutboxRetry puts a row back in the queue for a later attempt.
func (s *Store) OutboxRetry(ctx context.Context, o *Outbox, next time.Time, reason string) error {
	if _, err := s.db.ExecContext(ctx, s.q("outbox-retry"), utc(next), reason, o.ID); err != nil {
		return fmt.Errorf("store: outbox retry: %w", err)
	}
	return nil
}

// OutboxFailed records a permanent failure and its event.
func (s *Store) OutboxFailed(ctx context.Context, o *Outbox, reason string, ev *Event) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.x.ExecContext(ctx, s.q("outbox-failed"), reason, o.ID); err != nil {
			return fmt.Errorf("store: outbox failed: %w", err)
		}
		if ev != nil {
			if err := tx.AddEvent(ctx, ev); err != nil && err != ErrDuplicate {
				return err
			}
		}
		return nil
	})
}

// OutboxBounced records that a sent mail came back as undeliverable.
func (r Reader) OutboxBounced(ctx context.Context, messageID, reason string) error {
	if _, err := r.x.ExecContext(ctx, r.s.q("outbox-bounced"), reason, messageID); err != nil {
		return fmt.Errorf("store: outbox bounced: %w", err)
	}
	return nil
}
