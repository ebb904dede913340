package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
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

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// IncidentByKey finds an incident by its key (HD-42).
func (r Reader) IncidentByKey(ctx context.Context, key string) (*Incident, error) {
	var inc Incident
	if err := sqlx.GetContext(ctx, r.x, &inc, r.s.q("incident-by-key"), key); err != nil {
		return nil, noRows(err)
	}
	return &inc, nil
}

// SetIncidentStatus changes the status and the resolved/closed stamps.
func (r Reader) SetIncidentStatus(ctx context.Context, inc *Incident, status Status, at time.Time) error {
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

// ParticipantSource is a message (or an outgoing mail) whose addresses
// may make people participants of an incident: the message that opened
// it (Opener), or one whose sender was authenticated; an outgoing mail
// has no From.
type ParticipantSource struct {
	From          string `db:"from_addr"`
	To            string `db:"to_addrs"`
	Cc            string `db:"cc_addrs"`
	Authenticated bool   `db:"authenticated"`
	Opener        bool   `db:"opener"`
}

// ParticipantSources lists the messages and outgoing mail of an incident
// that can make someone a participant (see ParticipantSource); the
// caller decides whose.
func (r Reader) ParticipantSources(ctx context.Context, incidentID int64) ([]ParticipantSource, error) {
	var rows []ParticipantSource
	if err := sqlx.SelectContext(ctx, r.x, &rows, r.s.q("incident-participants"), incidentID, incidentID, incidentID, incidentID); err != nil {
		return nil, fmt.Errorf("store: participants of incident %d: %w", incidentID, err)
	}
	return rows, nil
}

// AddressList splits a stored address list ("a@x, Name <b@y>") into bare
// lower-case addresses; a part that does not parse is kept trimmed.
func AddressList(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if as, err := mail.ParseAddressList(s); err == nil {
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = strings.ToLower(a.Address)
		}
		return out
	}
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if i := strings.LastIndexByte(part, '<'); i >= 0 {
			part = strings.Trim(part[i:], "<> ")
		}
		if part != "" {
			out = append(out, strings.ToLower(part))
		}
	}
	return out
}

// AddEvent appends to an incident's audit trail. With a dedupe key, a
// second event of the same key is not added and ErrDuplicate is returned.
func (r Reader) AddEvent(ctx context.Context, e *Event) error {
	err := sqlx.GetContext(ctx, r.x, &e.ID, r.s.q("insert-event"),
		e.IncidentID, e.ProblemID, e.MessagePK, e.Kind, e.Actor, e.Detail, utc(e.CreatedAt), e.DedupeKey)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("store: add event %s: %w", e.Kind, err)
	}
	return nil
}

// AddEvents appends several events in as few statements as the
// databases' parameter limits allow. An event whose dedupe key exists is
// skipped without a word: AddEvent reports duplicates, and EventKeysExist
// tells a claimed job which keys exist before it writes.
func (r Reader) AddEvents(ctx context.Context, evs []*Event) error {
	err := r.rows(ctx, `INSERT INTO events (incident_id, problem_id, message_pk, kind, actor, detail, created_at, dedupe_key)`, placeholders(8),
		" ON CONFLICT DO NOTHING", len(evs), 8,
		func(i int) []any {
			e := evs[i]
			return []any{e.IncidentID, e.ProblemID, e.MessagePK, e.Kind, e.Actor, e.Detail, utc(e.CreatedAt), e.DedupeKey}
		}, nil)
	if err != nil {
		return fmt.Errorf("store: add %d events: %w", len(evs), err)
	}
	return nil
}

// EventKeysExist returns which of the dedupe keys events have already,
// each with the time its event was recorded. A job that holds its claim
// (see ClaimJob) checks its once-only keys with it before it queues
// anything, so that it records and sends nothing twice.
func (r Reader) EventKeysExist(ctx context.Context, keys []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(keys) == 0 {
		return out, nil
	}
	kj, _ := json.Marshal(keys)
	var found []struct {
		Key string    `db:"dedupe_key"`
		At  time.Time `db:"created_at"`
	}
	if err := sqlx.SelectContext(ctx, r.x, &found, r.s.q("event-keys-exist"), string(kj)); err != nil {
		return nil, fmt.Errorf("store: event keys: %w", err)
	}
	for _, k := range found {
		out[k.Key] = k.At
	}
	return out, nil
}

// TimelineMessage is a line of an incident's story: who wrote what when.
type TimelineMessage struct {
	IncidentID int64     `db:"incident_id"`
	MessageID  string    `db:"message_id"`
	Direction  string    `db:"direction"`
	FromAddr   string    `db:"from_addr"`
	ToAddrs    string    `db:"to_addrs"`
	Subject    string    `db:"subject"`
	ReceivedAt time.Time `db:"received_at"`
	Start      string    `db:"start"` // the first 300 characters of the new text
}

// Timelines returns the messages of incidents, oldest first, each with
// the start of its new text only.
func (r Reader) Timelines(ctx context.Context, incidentIDs []int64) (map[int64][]TimelineMessage, error) {
	out := map[int64][]TimelineMessage{}
	if len(incidentIDs) == 0 {
		return out, nil
	}
	ij, _ := json.Marshal(incidentIDs)
	var rows []TimelineMessage
	if err := sqlx.SelectContext(ctx, r.x, &rows, r.s.q("timelines"), string(ij)); err != nil {
		return nil, fmt.Errorf("store: timelines: %w", err)
	}
	for _, m := range rows {
		out[m.IncidentID] = append(out[m.IncidentID], m)
	}
	return out, nil
}

// CountOpenIncidents counts incidents neither resolved nor closed.
func (r Reader) CountOpenIncidents(ctx context.Context) (int, error) {
	var n int
	if err := sqlx.GetContext(ctx, r.x, &n, r.s.q("count-open-incidents")); err != nil {
		return 0, fmt.Errorf("store: count open incidents: %w", err)
	}
	return n, nil
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
	err := r.rows(ctx, `INSERT INTO intake_uids (mailbox, uidvalidity, uid, message_pk, quarantine_id, created_at)`, placeholders(6),
		` ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING`, len(rows), 6,
		func(i int) []any {
			u := rows[i]
			return []any{u.Mailbox, int64(u.UIDValidity), int64(u.UID), u.MessagePK, u.QuarantineID, utc(at)}
		}, nil)
	if err != nil {
		return fmt.Errorf("store: record %d uids: %w", len(rows), err)
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
// Empty raw (nil included: SQLite reads an empty BLOB back as nil) is
// stored as zero bytes, not NULL.
func (r Reader) Quarantine(ctx context.Context, source, hash, reason string, raw []byte, at time.Time) (int64, error) {
	if raw == nil {
		raw = []byte{}
	}
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

// CountIncidentEvents counts the events of one kind on an incident from
// since on (the events_incident index, then the rows of that incident).
func (r Reader) CountIncidentEvents(ctx context.Context, id int64, kind string, since time.Time) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, r.x, &n, r.s.q("count-incident-events-since"), id, kind, since)
	return n, err
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

// ProviderTicket returns the incident a provider's ticket number was
// learned for.
func (r Reader) ProviderTicket(ctx context.Context, provider, ticket string) (int64, error) {
	var id int64
	if err := sqlx.GetContext(ctx, r.x, &id, r.s.q("provider-ticket"), provider, ticket); err != nil {
		return 0, noRows(err)
	}
	return id, nil
}

// LearnProviderTicket records a provider's ticket number for an incident;
// the first incident a number was learned for keeps it.
func (r Reader) LearnProviderTicket(ctx context.Context, provider, ticket string, incidentID int64, at time.Time) error {
	if _, err := r.x.ExecContext(ctx, r.s.q("learn-provider-ticket"), provider, ticket, incidentID, utc(at)); err != nil {
		return fmt.Errorf("store: learn ticket %s of %s: %w", ticket, provider, err)
	}
	return nil
}
