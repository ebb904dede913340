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

// Reader holds the operations that work both on the pool and inside a
// transaction. Store and Tx embed it.
type Reader struct {
	x sqlx.ExtContext
	s *Store
}

// Tx is a transaction. Several messages may share one; each runs inside
// its own savepoint (Savepoint) so that one failing message is rolled back
// alone.
type Tx struct {
	Reader
	tx *sqlx.Tx
	sp int
}

// Begin starts a transaction (BEGIN IMMEDIATE on SQLite).
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return &Tx{Reader: Reader{x: tx, s: s}, tx: tx}, nil
}

// InTx runs fn in a transaction and commits it when fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Commit commits.
func (t *Tx) Commit() error {
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Rollback rolls back; after Commit it does nothing.
func (t *Tx) Rollback() error {
	err := t.tx.Rollback()
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// Savepoint opens a nested unit of work. Call exactly one of the returned
// functions: release keeps its changes in the transaction, rollback
// undoes them and leaves the transaction usable (on PostgreSQL, after an
// error, it is the only way to do so).
func (t *Tx) Savepoint(ctx context.Context) (release, rollback func() error, err error) {
	t.sp++
	name := fmt.Sprintf("hd_sp_%d", t.sp)
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return nil, nil, fmt.Errorf("store: savepoint: %w", err)
	}
	release = func() error {
		_, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
		return err
	}
	rollback = func() error {
		if _, err := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+name); err != nil {
			return err
		}
		_, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
		return err
	}
	return release, rollback, nil
}

func utc(t time.Time) time.Time { return t.UTC() }

func nullTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UTC()
}

// InsertMessage stores a message row. When (message_id, content_hash)
// exists already it returns the existing row's id and ErrDuplicate.
func (r Reader) InsertMessage(ctx context.Context, m *Message) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, r.x, &id, r.s.q("insert-message"),
		m.MessageID, m.ContentHash, m.Direction, m.Source, m.FromAddr, m.FromName,
		m.ToAddrs, m.CcAddrs, m.Subject, m.Kind, m.KindReason, m.InReplyTo, m.Refs, m.ThreadIndex,
		m.TextBody, m.NewText, m.Attachments, m.Defects, m.Size, nullTime(m.DateHeader), utc(m.ReceivedAt))
	if errors.Is(err, sql.ErrNoRows) {
		var existing struct {
			ID         int64  `db:"id"`
			IncidentID *int64 `db:"incident_id"`
			Outcome    string `db:"outcome"`
		}
		if err := sqlx.GetContext(ctx, r.x, &existing, r.s.q("message-by-identity"), m.MessageID, m.ContentHash); err != nil {
			return 0, fmt.Errorf("store: find duplicate message: %w", err)
		}
		m.ID, m.IncidentID, m.Outcome = existing.ID, existing.IncidentID, existing.Outcome
		return existing.ID, ErrDuplicate
	}
	if err != nil {
		return 0, fmt.Errorf("store: insert message: %w", err)
	}
	m.ID = id
	return id, nil
}

// InsertRaw keeps the raw bytes of a message.
func (r Reader) InsertRaw(ctx context.Context, messagePK int64, raw []byte) error {
	if _, err := r.x.ExecContext(ctx, r.s.q("insert-raw"), messagePK, raw); err != nil {
		return fmt.Errorf("store: insert raw message: %w", err)
	}
	return nil
}

// RawMessage returns the raw bytes of a stored message.
func (r Reader) RawMessage(ctx context.Context, messagePK int64) ([]byte, error) {
	var raw []byte
	err := sqlx.GetContext(ctx, r.x, &raw, r.s.db.Rebind(`SELECT raw FROM message_raw WHERE message_pk = ?`), messagePK)
	return raw, noRows(err)
}

// SetMessageThread records which incident a message joined and why.
func (r Reader) SetMessageThread(ctx context.Context, messagePK int64, incidentID *int64, reason, outcome string) error {
	_, err := r.x.ExecContext(ctx, r.s.q("set-message-thread"), incidentID, reason, outcome, messagePK)
	if err != nil {
		return fmt.Errorf("store: set message thread: %w", err)
	}
	return nil
}

// NextIncidentNumber takes the next incident number. Inside a transaction
// the counter row stays locked until commit, so numbers are never shared.
func (r Reader) NextIncidentNumber(ctx context.Context) (int64, error) {
	var n int64
	if err := sqlx.GetContext(ctx, r.x, &n, r.s.q("next-counter"), "incident"); err != nil {
		return 0, fmt.Errorf("store: next incident number: %w", err)
	}
	return n, nil
}

// InsertIncident stores a new incident and sets inc.ID.
func (r Reader) InsertIncident(ctx context.Context, inc *Incident) error {
	err := sqlx.GetContext(ctx, r.x, &inc.ID, r.s.q("insert-incident"),
		inc.Key, inc.Subject, inc.NormSubject, inc.Status, inc.Priority, inc.Requester, inc.RequesterName,
		inc.Assignee, inc.Category, utc(inc.CreatedAt), utc(inc.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: insert incident %s: %w", inc.Key, err)
	}
	inc.MessageCount = 1
	return nil
}

// IncidentByKey finds an incident by its key (HD-42).
func (r Reader) IncidentByKey(ctx context.Context, key string) (*Incident, error) {
	var inc Incident
	if err := sqlx.GetContext(ctx, r.x, &inc, r.s.q("incident-by-key"), key); err != nil {
		return nil, noRows(err)
	}
	return &inc, nil
}

// IncidentByID finds an incident by its row id.
func (r Reader) IncidentByID(ctx context.Context, id int64) (*Incident, error) {
	var inc Incident
	if err := sqlx.GetContext(ctx, r.x, &inc, r.s.q("incident-by-id"), id); err != nil {
		return nil, noRows(err)
	}
	return &inc, nil
}

// IncidentByMessageIDs finds the incident of the first of ids that is a
// stored message, incoming or outgoing. It returns the matching id too.
func (r Reader) IncidentByMessageIDs(ctx context.Context, ids []string) (int64, string, error) {
	if len(ids) == 0 {
		return 0, "", ErrNotFound
	}
	if len(ids) > 200 {
		ids = ids[len(ids)-200:]
	}
	type hit struct {
		MessageID  string `db:"message_id"`
		IncidentID int64  `db:"incident_id"`
	}
	var hits []hit
	q, args, err := sqlx.In(`SELECT message_id, incident_id FROM messages WHERE message_id IN (?) AND incident_id IS NOT NULL
		UNION ALL SELECT message_id, incident_id FROM outbox WHERE message_id IN (?) AND incident_id IS NOT NULL`, ids, ids)
	if err != nil {
		return 0, "", err
	}
	if err := sqlx.SelectContext(ctx, r.x, &hits, r.s.db.Rebind(q), args...); err != nil {
		return 0, "", fmt.Errorf("store: find thread: %w", err)
	}
	byID := map[string]int64{}
	for _, h := range hits {
		byID[h.MessageID] = h.IncidentID
	}
	for _, id := range ids {
		if inc, ok := byID[id]; ok {
			return inc, id, nil
		}
	}
	return 0, "", ErrNotFound
}

// TouchIncident counts one more message on the incident.
func (r Reader) TouchIncident(ctx context.Context, id int64, at time.Time) error {
	_, err := r.x.ExecContext(ctx, r.s.q("touch-incident"), utc(at), id)
	return err
}

// SetIncidentStatus changes the status and the resolved/closed stamps.
func (r Reader) SetIncidentStatus(ctx context.Context, inc *Incident, status string, at time.Time) error {
	switch status {
	case StatusResolved:
		inc.ResolvedAt = &at
	case StatusClosed:
		inc.ClosedAt = &at
	default:
		inc.ResolvedAt, inc.ClosedAt = nil, nil
	}
	inc.Status, inc.UpdatedAt = status, at
	_, err := r.x.ExecContext(ctx, r.s.q("set-incident-status"), status, utc(at), nullTime(inc.ResolvedAt), nullTime(inc.ClosedAt), inc.ID)
	if err != nil {
		return fmt.Errorf("store: set status of %s: %w", inc.Key, err)
	}
	return nil
}

// SetFirstResponse stamps first_response_at once.
func (r Reader) SetFirstResponse(ctx context.Context, id int64, at time.Time) error {
	_, err := r.x.ExecContext(ctx, r.s.q("set-first-response"), utc(at), id)
	return err
}

// IsParticipant reports whether addr wrote, or was addressed by, any
// message of the incident.
func (r Reader) IsParticipant(ctx context.Context, incidentID int64, addr string) (bool, error) {
	var n int
	// Addresses rarely contain % or _; where they do, they only widen the
	// match, which is the safe direction for "is this person on the thread".
	like := "%" + addr + "%"
	err := sqlx.GetContext(ctx, r.x, &n, r.s.q("is-participant"), incidentID, addr, like, like)
	return n > 0, err
}

// AddEvent appends to an incident's audit trail. With a dedupe key, a
// second event of the same key is not added and ErrDuplicate is returned.
func (r Reader) AddEvent(ctx context.Context, e *Event) error {
	err := sqlx.GetContext(ctx, r.x, &e.ID, r.s.q("insert-event"),
		e.IncidentID, e.MessagePK, e.Kind, e.Actor, e.Detail, utc(e.CreatedAt), e.DedupeKey)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("store: add event %s: %w", e.Kind, err)
	}
	return nil
}

// Enqueue adds a message to the outbox. A dedupe key or Message-ID that
// exists already gives ErrDuplicate.
func (r Reader) Enqueue(ctx context.Context, o *Outbox) error {
	err := sqlx.GetContext(ctx, r.x, &o.ID, r.s.q("insert-outbox"),
		o.IncidentID, o.Kind, o.MessageID, o.DedupeKey, o.FromAddr, o.ToAddrs, o.CcAddrs, o.ReplyTo,
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

// CountAutoMail counts automatic mails queued to rcpt since a time.
func (r Reader) CountAutoMail(ctx context.Context, rcpt string, since time.Time) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, r.x, &n, r.s.q("count-auto-mail"), strings.ToLower(rcpt), utc(since))
	return n, err
}

// Checkpoint returns the stored (UIDVALIDITY, last UID) of a mailbox.
func (r Reader) Checkpoint(ctx context.Context, mailbox string) (validity uint32, lastUID uint32, ok bool, err error) {
	var row struct {
		V int64 `db:"uidvalidity"`
		L int64 `db:"last_uid"`
	}
	err = sqlx.GetContext(ctx, r.x, &row, r.s.q("get-checkpoint"), mailbox)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("store: checkpoint: %w", err)
	}
	return uint32(row.V), uint32(row.L), true, nil
}

// SetCheckpoint records (UIDVALIDITY, last UID) of a mailbox.
func (r Reader) SetCheckpoint(ctx context.Context, mailbox string, validity, lastUID uint32, at time.Time) error {
	_, err := r.x.ExecContext(ctx, r.s.q("set-checkpoint"), mailbox, int64(validity), int64(lastUID), utc(at))
	if err != nil {
		return fmt.Errorf("store: set checkpoint: %w", err)
	}
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

// PendingIntake lists committed UIDs whose mailbox action is still due.
func (r Reader) PendingIntake(ctx context.Context, mailbox string, validity uint32) ([]uint32, error) {
	var rows []int64
	if err := sqlx.SelectContext(ctx, r.x, &rows, r.s.q("pending-intake"), mailbox, int64(validity)); err != nil {
		return nil, fmt.Errorf("store: pending uids: %w", err)
	}
	out := make([]uint32, len(rows))
	for i, v := range rows {
		out[i] = uint32(v)
	}
	return out, nil
}

// MarkIntakeDone records that the mailbox action of these UIDs was done.
func (s *Store) MarkIntakeDone(ctx context.Context, mailbox string, validity uint32, uids []uint32) error {
	return s.InTx(ctx, func(tx *Tx) error {
		for _, u := range uids {
			if _, err := tx.x.ExecContext(ctx, s.q("intake-done"), mailbox, int64(validity), int64(u)); err != nil {
				return fmt.Errorf("store: mark uid done: %w", err)
			}
		}
		return nil
	})
}

// Quarantine keeps raw bytes that could not be processed. The same bytes
// twice are one record: the existing id is returned with ErrDuplicate.
func (r Reader) Quarantine(ctx context.Context, source, hash, reason string, raw []byte, at time.Time) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, r.x, &id, r.s.q("insert-quarantine"), source, hash, reason, raw, len(raw), utc(at))
	if errors.Is(err, sql.ErrNoRows) {
		if err := sqlx.GetContext(ctx, r.x, &id, r.s.q("quarantine-by-hash"), hash); err != nil {
			return 0, fmt.Errorf("store: find quarantined: %w", err)
		}
		return id, ErrDuplicate
	}
	if err != nil {
		return 0, fmt.Errorf("store: quarantine: %w", err)
	}
	return id, nil
}

// ListQuarantine lists quarantined messages (without their bytes).
func (r Reader) ListQuarantine(ctx context.Context) ([]Quarantined, error) {
	var out []Quarantined
	err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("list-quarantine"))
	return out, err
}

// GetQuarantine returns one quarantined message with its bytes.
func (r Reader) GetQuarantine(ctx context.Context, id int64) (*Quarantined, error) {
	var q Quarantined
	if err := sqlx.GetContext(ctx, r.x, &q, r.s.q("get-quarantine"), id); err != nil {
		return nil, noRows(err)
	}
	return &q, nil
}

// ResolveQuarantine marks a quarantined message as reprocessed.
func (r Reader) ResolveQuarantine(ctx context.Context, id int64, messagePK *int64, at time.Time) error {
	_, err := r.x.ExecContext(ctx, r.s.q("resolve-quarantine"), utc(at), messagePK, id)
	return err
}

// ListIncidents returns open incidents, or all of them.
func (r Reader) ListIncidents(ctx context.Context, all bool) ([]Incident, error) {
	name := "list-open-incidents"
	if all {
		name = "list-all-incidents"
	}
	var out []Incident
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q(name)); err != nil {
		return nil, fmt.Errorf("store: list incidents: %w", err)
	}
	return out, nil
}

// IncidentMessages lists the messages of an incident, oldest first.
func (r Reader) IncidentMessages(ctx context.Context, id int64) ([]Message, error) {
	var out []Message
	err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("incident-messages"), id)
	return out, err
}

// IncidentEvents lists the audit trail of an incident.
func (r Reader) IncidentEvents(ctx context.Context, id int64) ([]Event, error) {
	var out []Event
	err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("incident-events"), id)
	return out, err
}

// IncidentOutbox lists what was (or will be) sent for an incident.
func (r Reader) IncidentOutbox(ctx context.Context, id int64) ([]Outbox, error) {
	var out []Outbox
	err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("incident-outbox"), id)
	return out, err
}

// PendingOutbox counts rows not yet sent or failed.
func (r Reader) PendingOutbox(ctx context.Context) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, r.x, &n, r.s.q("outbox-pending-count"))
	return n, err
}
