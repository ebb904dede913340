package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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

// Tx is a transaction. Several messages share one (see workflow); the
// named queries run as statements prepared once per transaction.
type Tx struct {
	Reader
	tx *sqlx.Tx
}

// Begin starts a transaction (BEGIN IMMEDIATE on SQLite).
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return &Tx{Reader: Reader{x: &txExt{Tx: tx, known: s.known}, s: s}, tx: tx}, nil
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

func utc(t time.Time) time.Time { return t.UTC() }

func nullTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UTC()
}

// InsertMessage stores a message row with the incident it joined, the
// reason and the outcome (all decided before the insert), and its raw
// bytes when raw is not nil. When (message_id, content_hash) exists
// already (another process stored the same message in the meantime) it
// returns ErrDuplicate and nothing is stored.
func (r Reader) InsertMessage(ctx context.Context, m *Message, raw []byte) (int64, error) {
	args := []any{m.MessageID, m.ContentHash, m.Direction, m.Source, m.FromAddr, m.FromName,
		m.ToAddrs, m.CcAddrs, m.Subject, m.Kind, m.KindReason, m.InReplyTo, m.Refs, m.ThreadIndex,
		m.TextBody, m.NewText, m.Attachments, m.Defects, m.Size, nullTime(m.DateHeader), utc(m.ReceivedAt),
		m.IncidentID, m.ThreadReason, m.Outcome}
	var id int64
	var err error
	if raw != nil && r.s.dialect == Postgres {
		// One round trip for both rows (a data-modifying CTE; SQLite has
		// none, and needs no saving of round trips).
		err = sqlx.GetContext(ctx, r.x, &id, r.s.q("insert-message-raw"), append(args, raw)...)
	} else {
		err = sqlx.GetContext(ctx, r.x, &id, r.s.q("insert-message"), args...)
		if err == nil && raw != nil {
			err = r.InsertRaw(ctx, id, raw)
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrDuplicate
	}
	if err != nil {
		return 0, fmt.Errorf("store: insert message: %w", err)
	}
	m.ID = id
	return id, nil
}

// Lookup is what the store knows of an incoming message before it is
// stored: the stored copy, if any, the first thread candidate that is a
// stored message or outgoing mail of an incident, and how many automatic
// mails went to the sender lately.
type Lookup struct {
	AutoMailSent int
	Duplicate    *Message // ID, IncidentID and Outcome set
	// ThreadIncident is the incident of the first candidate found, in
	// the order of the candidates; ThreadMessageID is that candidate.
	ThreadIncident  int64
	ThreadMessageID string
}

// LookupMessage answers, in one round trip, whether (messageID,
// contentHash) is stored already, which incident the candidates
// (In-Reply-To/References, most relevant first) belong to, and how many
// automatic mails were queued to sender since a time (as CountAutoMail).
func (r Reader) LookupMessage(ctx context.Context, messageID, contentHash string, candidates []string, sender string, since time.Time) (*Lookup, error) {
	if len(candidates) > 200 {
		candidates = candidates[:200]
	}
	ids, err := json.Marshal(nonNilStrings(candidates))
	if err != nil {
		return nil, err
	}
	var hits []struct {
		Pos        int    `db:"pos"`
		ID         int64  `db:"id"`
		MessageID  string `db:"message_id"`
		IncidentID *int64 `db:"incident_id"`
		Outcome    string `db:"outcome"`
	}
	if err := sqlx.SelectContext(ctx, r.x, &hits, r.s.q("message-lookup"), messageID, contentHash, string(ids), string(ids),
		strings.ToLower(sender), utc(since)); err != nil {
		return nil, fmt.Errorf("store: look up message: %w", err)
	}
	out := &Lookup{}
	byID := map[string]int64{}
	for _, h := range hits {
		if h.Pos == 3 {
			out.AutoMailSent = int(h.ID)
			continue
		}
		if h.Pos == 0 {
			out.Duplicate = &Message{ID: h.ID, MessageID: h.MessageID, ContentHash: contentHash, IncidentID: h.IncidentID, Outcome: h.Outcome}
			continue
		}
		if h.IncidentID != nil {
			if _, seen := byID[h.MessageID]; !seen {
				byID[h.MessageID] = *h.IncidentID
			}
		}
	}
	for _, id := range candidates {
		if inc, ok := byID[id]; ok {
			out.ThreadIncident, out.ThreadMessageID = inc, id
			break
		}
	}
	return out, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
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

// CreateIncident takes the next incident number, names the incident
// keyPrefix+number ("HD-" + 42) and stores it; inc.ID and inc.Key are
// set. Inside a transaction the counter row stays locked until commit, so
// numbers are never shared.
func (r Reader) CreateIncident(ctx context.Context, inc *Incident, keyPrefix string) error {
	if r.s.dialect == Postgres {
		var row struct {
			ID  int64  `db:"id"`
			Key string `db:"key"`
		}
		err := sqlx.GetContext(ctx, r.x, &row, r.s.q("create-incident"), keyPrefix,
			inc.Subject, inc.NormSubject, inc.Status, inc.Priority, inc.Requester, inc.RequesterName,
			inc.Assignee, inc.Category, utc(inc.CreatedAt), utc(inc.UpdatedAt))
		if err != nil {
			return fmt.Errorf("store: create incident: %w", err)
		}
		inc.ID, inc.Key, inc.MessageCount = row.ID, row.Key, 1
		return nil
	}
	n, err := r.NextIncidentNumber(ctx)
	if err != nil {
		return err
	}
	inc.Key = keyPrefix + strconv.FormatInt(n, 10)
	return r.InsertIncident(ctx, inc)
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

// AddEvents appends several events in as few statements as the
// database's parameter limit allows. Events without dedupe keys only:
// AddEvent reports duplicates, this does not.
func (r Reader) AddEvents(ctx context.Context, evs []*Event) error {
	const cols = 6
	const chunk = 500 // 3,000 parameters: under every limit of both engines
	for start := 0; start < len(evs); start += chunk {
		part := evs[start:min(start+chunk, len(evs))]
		var b strings.Builder
		b.WriteString(`INSERT INTO events (incident_id, message_pk, kind, actor, detail, created_at) VALUES `)
		args := make([]any, 0, len(part)*cols)
		for i, e := range part {
			if e.DedupeKey != nil {
				return fmt.Errorf("store: add events: %s has a dedupe key; use AddEvent", e.Kind)
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, e.IncidentID, e.MessagePK, e.Kind, e.Actor, e.Detail, utc(e.CreatedAt))
		}
		if _, err := r.x.ExecContext(ctx, r.s.db.Rebind(b.String()), args...); err != nil {
			return fmt.Errorf("store: add %d events: %w", len(part), err)
		}
	}
	return nil
}

// CountOpenIncidents counts incidents neither resolved nor closed.
func (r Reader) CountOpenIncidents(ctx context.Context) (int, error) {
	var n int
	if err := sqlx.GetContext(ctx, r.x, &n, r.s.q("count-open-incidents")); err != nil {
		return 0, fmt.Errorf("store: count open incidents: %w", err)
	}
	return n, nil
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

// IntakeUID is a message of a mailbox that was committed (as a message
// or to quarantine) and whose flag/move is due.
type IntakeUID struct {
	Mailbox      string
	UIDValidity  uint32
	UID          uint32
	MessagePK    *int64
	QuarantineID *int64
}

// RecordIntakeUIDs is RecordIntakeUID for many, in as few statements as
// the parameter limits allow.
func (r Reader) RecordIntakeUIDs(ctx context.Context, rows []IntakeUID, at time.Time) error {
	const chunk = 500
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		var b strings.Builder
		b.WriteString(`INSERT INTO intake_uids (mailbox, uidvalidity, uid, message_pk, quarantine_id, created_at) VALUES `)
		args := make([]any, 0, len(part)*6)
		for i, u := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, u.Mailbox, int64(u.UIDValidity), int64(u.UID), u.MessagePK, u.QuarantineID, utc(at))
		}
		b.WriteString(` ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING`)
		if _, err := r.x.ExecContext(ctx, r.s.db.Rebind(b.String()), args...); err != nil {
			return fmt.Errorf("store: record %d uids: %w", len(part), err)
		}
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
	list, err := json.Marshal(uids)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, s.q("intake-done"), mailbox, int64(validity), string(list)); err != nil {
		return fmt.Errorf("store: mark %d uids done: %w", len(uids), err)
	}
	return nil
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
