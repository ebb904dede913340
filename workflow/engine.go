// Package workflow holds the rules of the helpdesk: how a message threads
// into an incident or opens a new one, who is acknowledged, what is
// ignored and why. It knows nothing of IMAP or SMTP: intake hands it raw
// messages, and what it decides to send goes into the outbox, which the
// mailer delivers.
//
// Every message is processed all-or-nothing: its stored copy (raw bytes
// included), its incident, events and outbox rows commit together or not
// at all. Several messages share one transaction for throughput; each runs
// in its own savepoint, so a message that fails is rolled back alone and
// kept in quarantine while the others commit.
//
// Decisions that need no database (threading candidates, loop rules,
// acknowledgement limits) are pure functions in this package; the Engine
// runs them inside the store transaction. Time comes from Engine.Now,
// never from time.Now deep in the rules.
package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/templates"
)

// Outcome is what became of one incoming message.
type Outcome string

// The outcomes of ingest, as printed by "ingest --json".
const (
	OutcomeNewIncident Outcome = "new_incident"
	OutcomeThreaded    Outcome = "threaded"
	OutcomeDuplicate   Outcome = "duplicate"
	OutcomeIgnored     Outcome = "ignored"
	OutcomeQuarantined Outcome = "quarantined"
)

// Source says where a message came from.
type Source struct {
	Kind        string // "imap", "file", "stdin", "quarantine"
	Mailbox     string // imap: mailbox identity
	UIDValidity uint32
	UID         uint32
	Name        string // file path, or a description
}

func (s Source) String() string {
	switch s.Kind {
	case "imap":
		return fmt.Sprintf("imap:%s;uidvalidity=%d;uid=%d", s.Mailbox, s.UIDValidity, s.UID)
	case "":
		return "unknown"
	default:
		if s.Name == "" {
			return s.Kind
		}
		return s.Kind + ":" + s.Name
	}
}

// Inbound is one raw message to ingest.
type Inbound struct {
	Source Source
	Raw    []byte
}

// Result is what happened to one Inbound.
type Result struct {
	Source    string  `json:"source"`
	Outcome   Outcome `json:"outcome"`
	Incident  string  `json:"incident"`
	Kind      string  `json:"kind"`
	Reason    string  `json:"reason"`
	MessageID string  `json:"-"`
	messagePK int64
}

// Engine applies the helpdesk's rules to incoming mail.
type Engine struct {
	Store     *store.Store
	Cfg       *config.Config
	Templates *templates.Set
	Log       *slog.Logger
	// Now is the clock; tests and "run --now" set it.
	Now func() time.Time
	// Parse bounds the parser's work per message.
	Parse mailparse.Options
	// Committed is called after each commit that queued outgoing mail,
	// so a mailer in the same process can deliver at once.
	Committed func()
	// Observe, if set, sees the results of every committed batch
	// (metrics).
	Observe func([]Result)

	keys *Keys
}

// NewEngine wires an Engine with defaults.
func NewEngine(st *store.Store, cfg *config.Config, tmpl *templates.Set, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.Default()
	}
	return &Engine{
		Store: st, Cfg: cfg, Templates: tmpl, Log: log,
		Now:   func() time.Time { return time.Now().UTC() },
		Parse: mailparse.DefaultOptions,
		keys:  NewKeys(cfg.Helpdesk.KeyPrefix, cfg.MessageIDDomain()),
	}
}

// Keys returns the incident key patterns in use.
func (e *Engine) Keys() *Keys { return e.keys }

// Ingest processes a batch in one transaction. Each message is
// all-or-nothing inside it. after, if not nil, runs in the same
// transaction before the commit (intake records its checkpoint there).
//
// An error means nothing of the batch was committed and all of it must be
// retried later; messages that fail on their own are quarantined and
// reported as results, not as an error.
func (e *Engine) Ingest(ctx context.Context, batch []Inbound, after func(*store.Tx) error) ([]Result, error) {
	tx, err := e.Store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	results := make([]Result, 0, len(batch))
	queued := false
	for i := range batch {
		res, q, err := e.ingestOne(ctx, tx, &batch[i])
		if err != nil {
			return nil, err
		}
		queued = queued || q
		results = append(results, res)
	}
	if after != nil {
		if err := after(tx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	for _, r := range results {
		e.Log.Info("ingested", "source", r.Source, "outcome", r.Outcome, "incident", r.Incident,
			"kind", r.Kind, "message_id", r.MessageID, "reason", r.Reason)
	}
	if e.Observe != nil {
		e.Observe(results)
	}
	if queued && e.Committed != nil {
		e.Committed()
	}
	return results, nil
}

// ingestOne runs one message in a savepoint. A failure of the message
// itself rolls the savepoint back and quarantines the raw bytes; only a
// failure to do even that is returned, and it aborts the batch.
func (e *Engine) ingestOne(ctx context.Context, tx *store.Tx, in *Inbound) (Result, bool, error) {
	release, rollback, err := tx.Savepoint(ctx)
	if err != nil {
		return Result{}, false, err
	}
	p := &processing{e: e, tx: tx, in: in, now: e.Now().UTC()}
	res, perr := p.run(ctx)
	if perr == nil {
		if err := release(); err != nil {
			return Result{}, false, fmt.Errorf("workflow: release savepoint: %w", err)
		}
		return res, p.queued, nil
	}
	if err := rollback(); err != nil {
		return Result{}, false, fmt.Errorf("workflow: %s: %v; and rolling back failed: %w", in.Source, perr, err)
	}
	// Keep the message in quarantine so it cannot block the queue.
	reason := perr.Error()
	var pe *parseError
	if !errors.As(perr, &pe) {
		e.Log.Error("message failed, quarantined", "source", in.Source.String(), "error", perr)
		reason = "processing failed: " + reason
	}
	qid, err := e.quarantine(ctx, tx, in, reason, p.now)
	if err != nil {
		return Result{}, false, err
	}
	return Result{Source: in.Source.String(), Outcome: OutcomeQuarantined, Reason: reason + fmt.Sprintf(" (quarantine #%d)", qid)}, false, nil
}

func (e *Engine) quarantine(ctx context.Context, tx *store.Tx, in *Inbound, reason string, now time.Time) (int64, error) {
	sum := sha256.Sum256(in.Raw)
	qid, err := tx.Quarantine(ctx, cleanText(in.Source.String()), hex.EncodeToString(sum[:]), cleanText(reason), in.Raw, now)
	if err != nil && !errors.Is(err, store.ErrDuplicate) {
		return 0, err
	}
	if in.Source.Kind == "imap" {
		if err := tx.RecordIntakeUID(ctx, in.Source.Mailbox, in.Source.UIDValidity, in.Source.UID, nil, &qid, now); err != nil {
			return 0, err
		}
	}
	return qid, nil
}

// parseError is a message that cannot be read at all.
type parseError struct{ err error }

func (p *parseError) Error() string { return p.err.Error() }
func (p *parseError) Unwrap() error { return p.err }

// processing is the work on one message.
type processing struct {
	e      *Engine
	tx     *store.Tx
	in     *Inbound
	now    time.Time
	msg    *mailparse.Message
	row    *store.Message
	queued bool

	incidentID   *int64
	threadReason string
}

func (p *processing) run(ctx context.Context) (Result, error) {
	e, in := p.e, p.in
	res := Result{Source: in.Source.String()}
	if max := e.Cfg.Intake.MaxMessageBytes; int64(len(in.Raw)) > max {
		return res, &parseError{fmt.Errorf("message is %d bytes, over the limit of %d ([intake] max_message_bytes)", len(in.Raw), max)}
	}
	msg, err := mailparse.Parse(in.Raw, e.Parse)
	if err != nil {
		return res, &parseError{err}
	}
	p.msg = msg
	res.Kind, res.MessageID = string(msg.Kind), msg.MessageID

	row := messageRow(msg, in.Source.String(), p.now)
	p.row = row
	if _, err := p.tx.InsertMessage(ctx, row); errors.Is(err, store.ErrDuplicate) {
		res.Outcome, res.messagePK = OutcomeDuplicate, row.ID
		res.Reason = "already stored (same Message-ID and content)"
		if row.IncidentID != nil {
			if inc, err := p.tx.IncidentByID(ctx, *row.IncidentID); err == nil {
				res.Incident = inc.Key
			}
		}
		return res, p.recordUID(ctx, &row.ID)
	} else if err != nil {
		return res, err
	}
	if err := p.tx.InsertRaw(ctx, row.ID, in.Raw); err != nil {
		return res, err
	}
	res.messagePK = row.ID
	if err := p.decide(ctx, &res); err != nil {
		return res, err
	}
	var incID *int64
	if res.Incident != "" {
		incID = p.incidentID
	}
	if err := p.tx.SetMessageThread(ctx, row.ID, incID, p.threadReason, string(res.Outcome)); err != nil {
		return res, err
	}
	return res, p.recordUID(ctx, &row.ID)
}

func (p *processing) recordUID(ctx context.Context, pk *int64) error {
	s := p.in.Source
	if s.Kind != "imap" {
		return nil
	}
	return p.tx.RecordIntakeUID(ctx, s.Mailbox, s.UIDValidity, s.UID, pk, nil, p.now)
}

func messageRow(m *mailparse.Message, source string, now time.Time) *store.Message {
	atts, _ := json.Marshal(nonNil(m.Attachments))
	defects, _ := json.Marshal(nonNil(m.Defects))
	var date *time.Time
	if !m.Date.IsZero() {
		d := m.Date
		date = &d
	}
	c := cleanText
	return &store.Message{
		MessageID:   c(m.MessageID),
		ContentHash: m.ContentHash,
		Direction:   "in",
		Source:      source,
		FromAddr:    c(m.From.Addr),
		FromName:    c(m.From.Name),
		ToAddrs:     c(joinAddrs(m.To)),
		CcAddrs:     c(joinAddrs(m.Cc)),
		InReplyTo:   c(strings.Join(m.InReplyTo, " ")),
		Refs:        c(strings.Join(m.References, " ")),
		Subject:     c(m.Subject),
		Kind:        string(m.Kind),
		KindReason:  c(m.KindReason),
		ThreadIndex: c(m.ThreadIndex),
		TextBody:    c(m.Text),
		NewText:     c(m.NewText),
		Attachments: c(string(atts)),
		Defects:     c(string(defects)),
		Size:        int64(m.Size),
		DateHeader:  date,
		ReceivedAt:  now,
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func joinAddrs(as []mailparse.Address) string {
	parts := make([]string, 0, len(as))
	for _, a := range as {
		parts = append(parts, a.Addr)
	}
	return strings.Join(parts, ", ")
}

// Reprocess runs a quarantined message through intake again (after an
// upgrade that reads it, or a fixed configuration). On success the
// quarantine record is marked reprocessed and points to the message.
func (e *Engine) Reprocess(ctx context.Context, id int64) (Result, error) {
	q, err := e.Store.GetQuarantine(ctx, id)
	if err != nil {
		return Result{}, err
	}
	if q.Status != "held" {
		return Result{}, fmt.Errorf("quarantine #%d was already %s", id, q.Status)
	}
	in := Inbound{Raw: q.Raw, Source: Source{Kind: "quarantine", Name: fmt.Sprintf("#%d", id)}}
	tx, err := e.Store.Begin(ctx)
	if err != nil {
		return Result{}, err
	}
	defer tx.Rollback()
	res, queued, err := e.ingestOne(ctx, tx, &in)
	if err != nil {
		return Result{}, err
	}
	if res.Outcome != OutcomeQuarantined {
		pk := res.messagePK
		if err := tx.ResolveQuarantine(ctx, id, &pk, e.Now()); err != nil {
			return Result{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return Result{}, err
	}
	if queued && e.Committed != nil {
		e.Committed()
	}
	return res, nil
}

// Tick is the periodic pass of the daemon (every minute) and of
// "run --once". It is where time-driven rules run; the backbone has none
// yet, so it only reports how many incidents are open, which callers log.
func (e *Engine) Tick(ctx context.Context) (open int, err error) {
	incs, err := e.Store.ListIncidents(ctx, false)
	if err != nil {
		return 0, err
	}
	return len(incs), nil
}

// cleanText makes a string storable in any TEXT column: valid UTF-8 and no
// NUL bytes (PostgreSQL rejects both). Raw bytes are kept separately, so
// nothing is lost.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}
