package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Single-row forms of EnqueueAll and RecordIntakeUIDs, for the store's
// own tests.

// Enqueue adds a message to the outbox. A dedupe key or Message-ID that
// exists already gives ErrDuplicate.
func (r Reader) Enqueue(ctx context.Context, o *Outbox) error {
	err := sqlx.GetContext(ctx, r.x, &o.ID, r.s.q("insert-outbox"),
		o.IncidentID, o.ProblemID, o.Kind, o.MessageID, o.DedupeKey, o.FromAddr, o.ToAddrs, o.CcAddrs, o.ReplyTo,
		o.Subject, o.TextBody, o.HTMLBody, o.InReplyTo, o.Refs, o.AutoSubmitted, strings.ToLower(o.RcptKey),
		utc(o.NextAttemptAt), utc(o.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("store: enqueue %s: %w", o.Kind, err)
	}
	o.Status = OutboxQueued
	return nil
}

// RecordIntakeUID notes that a UID was committed (as a message or in
// quarantine) and that its mailbox action (flag or move) is still due.
func (r Reader) RecordIntakeUID(ctx context.Context, mailbox string, validity, uid uint32, messagePK, quarantineID *int64, at time.Time) error {
	_, err := r.x.ExecContext(ctx, r.s.q("record-intake-uid"), mailbox, int64(validity), int64(uid), messagePK, quarantineID, utc(at))
	if err != nil {
		return fmt.Errorf("store: record uid: %w", err)
	}
	return nil
}
