// Package workflow holds the rules of the helpdesk: how a message threads
// into an incident or opens a new one, who is acknowledged, what is
// ignored and why. It knows nothing of IMAP or SMTP: intake hands it raw
// messages, and what it decides to send goes into the outbox, which the
// mailer delivers.
//
// Every message is processed all-or-nothing: its stored copy (raw bytes
// included), its incident, events and outbox rows commit together or not
// at all. Several messages share one transaction for throughput; when one
// of them fails, the transaction is rolled back and the batch runs again
// with that message kept in quarantine, so the others still commit.
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
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

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
	// OutcomeHeld: the sender opened [helpdesk] new_incident_limit
	// incidents in the last hour already; the message is kept whole in
	// quarantine, with the reason, until "quarantine reprocess" releases
	// it.
	OutcomeHeld Outcome = "held"
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
	// release: an administrator reprocesses held mail; the per-sender
	// limit on new incidents does not apply again.
	release bool
}

// Result is what happened to one Inbound.
type Result struct {
	Source   string  `json:"source"`
	Outcome  Outcome `json:"outcome"`
	Incident string  `json:"incident"`
	// Problem is set when the message joined a problem's own thread
	// (a reply to a [PRB-N] mail); Incident is empty then.
	Problem   string `json:"problem,omitempty"`
	Kind      string `json:"kind"`
	Reason    string `json:"reason"`
	MessageID string `json:"-"`
	messagePK int64
	pk        func() int64 // the stored message's id, known after the flush
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
	// DKIMLookup answers DNS TXT queries for DKIM keys ([commands]
	// verify_dkim); nil uses the system resolver. Tests set it.
	DKIMLookup func(domain string) ([]string, error)
	// Jobs are the tick's named jobs, run in this order (see tick.go).
	Jobs []Job

	health jobHealth
	// cfgMu: Reload swaps Cfg only between batches and ticks.
	cfgMu sync.RWMutex
	df    dfCache // document frequencies of fingerprint words (problems.go)

	keys        *Keys
	problemKeys *Keys
	// failHook lets tests fail a message in the middle of its work;
	// rowHook lets them spoil a row so that the batch's write fails.
	failHook func(ctx context.Context, tx *store.Tx, subject string) error
	rowHook  func(*store.Message)
}

// NewEngine wires an Engine with defaults.
func NewEngine(st *store.Store, cfg *config.Config, tmpl *templates.Set, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.Default()
	}
	e := &Engine{
		Store: st, Cfg: cfg, Templates: tmpl, Log: log,
		Now:   func() time.Time { return time.Now().UTC() },
		Parse: ParseOptions(cfg),
		keys:  NewKeys(cfg.Helpdesk.KeyPrefix, cfg.MessageIDDomain()),
		// Problems are PRB-N, whatever the incidents' prefix.
		problemKeys: NewKeys(ProblemPrefix, cfg.MessageIDDomain()),
	}
	// The problem jobs are there whether [problems] is or not: a reload
	// may enable it; they do nothing while it is off.
	e.Jobs = append([]Job{e.EscalationJob(), e.ReportJob(), e.SummaryJob()}, e.problemJobs()...)
	return e
}

// ParseOptions are the parser limits of the configuration ([intake]).
func ParseOptions(cfg *config.Config) mailparse.Options {
	in := cfg.Intake
	return mailparse.Options{MaxBytes: int(in.MaxMessageBytes), MaxHeaderBytes: in.MaxHeaderBytes,
		MaxHeaderFields: in.MaxHeaderFields, MaxDepth: in.MaxMIMEDepth, MaxParts: in.MaxMIMEParts,
		MaxTextBytes: in.MaxTextBytes, MaxParseTime: in.ParseBudget.Duration}
}

// ProblemPrefix is the key prefix of problems: PRB-7.
const ProblemPrefix = "PRB"

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
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	var fn func(*store.Tx, []Result) error
	if after != nil {
		fn = func(tx *store.Tx, _ []Result) error { return after(tx) }
	}
	return e.ingest(ctx, batch, fn)
}

// ingest parses the whole batch first (in parallel: parsing is pure CPU
// and the database work after it is mostly waiting), then runs the
// messages in order in one transaction.
//
// A message that fails while it is processed leaves the transaction in
// an unknown state (on PostgreSQL, aborted), so the whole attempt is
// rolled back and the batch is run again with that message quarantined
// instead. Failures are rare; the common path saves the two savepoint
// round trips per message that rolling back a single message would need.
// Each attempt quarantines at least one more message, so the loop ends.
func (e *Engine) ingest(ctx context.Context, batch []Inbound, after func(*store.Tx, []Result) error) ([]Result, error) {
	parsed := e.parseAll(batch)
	failed := make([]error, len(batch))
	for i := range parsed {
		if parsed[i].err != nil {
			failed[i] = parsed[i].err
		}
	}
	races := 0
	careful := false
	for {
		results, queued, retry, err := e.attempt(ctx, batch, parsed, failed, careful, after)
		if err != nil {
			return nil, err
		}
		if retry == retryCareful {
			if careful {
				return nil, errors.New("workflow: batch could not be written, not even message by message")
			}
			careful = true
			continue
		}
		if retry == retryRace {
			// Another process stored one of these messages meanwhile;
			// the next attempt finds it and counts it a duplicate.
			if races++; races > 3 {
				return nil, errors.New("workflow: batch keeps conflicting with another writer; will retry")
			}
			continue
		}
		if retry == retryFailed {
			continue
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
}

type retryKind int

const (
	retryNone    retryKind = iota
	retryFailed            // a message failed: run again with it quarantined
	retryRace              // another process stored a message meanwhile
	retryCareful           // the batch's writes failed: find the message
)

// errRaced: the message was stored by another process after this one
// looked it up.
var errRaced = errors.New("message stored concurrently")

// parsed is a message of a batch after parsing; err, when set, is why it
// cannot be read and goes to quarantine.
type parsed struct {
	msg *mailparse.Message
	err error
}

func (e *Engine) parseAll(batch []Inbound) []parsed {
	out := make([]parsed, len(batch))
	one := func(i int) {
		msg, err := mailparse.Parse(batch[i].Raw, e.Parse)
		if err != nil {
			out[i].err = &parseError{err}
			return
		}
		out[i].msg = msg
	}
	workers := min(runtime.GOMAXPROCS(0), len(batch))
	if workers <= 1 {
		for i := range batch {
			one(i)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(batch) {
					return
				}
				one(i)
			}
		})
	}
	wg.Wait()
	return out
}

// attempt runs the batch once in one transaction: the unit reads what
// the batch needs, the rules run message by message, and the unit writes
// the result with a few multi-row statements.
//
// careful (after a write failed that no single message could be blamed
// for) writes after every message instead, so the next failure names its
// message.
func (e *Engine) attempt(ctx context.Context, batch []Inbound, ps []parsed, failed []error, careful bool, after func(*store.Tx, []Result) error) ([]Result, bool, retryKind, error) {
	tx, err := e.Store.Begin(ctx)
	if err != nil {
		return nil, false, retryNone, err
	}
	defer tx.Rollback()
	now := e.Now().UTC()
	u := newUnit(e, tx, now)
	var msgs []*mailparse.Message
	for i := range batch {
		if failed[i] == nil {
			msgs = append(msgs, ps[i].msg)
		}
	}
	if err := u.prefetch(ctx, msgs); err != nil {
		return nil, false, retryNone, err
	}
	results := make([]Result, len(batch))
	qids := make([]int64, len(batch))
	queued := false
	for i := range batch {
		in := &batch[i]
		if failed[i] != nil {
			res, qid, err := e.quarantine(ctx, tx, in, failed[i], now)
			if err != nil {
				return nil, false, retryNone, err
			}
			results[i], qids[i] = res, qid
			continue
		}
		p := &processing{e: e, u: u, tx: tx, in: in, msg: ps[i].msg, now: now}
		res, perr := p.run(ctx)
		if perr == nil && careful {
			perr = u.flush(ctx)
		}
		switch {
		case perr == nil && res.Outcome == OutcomeHeld:
			held, qid, err := e.quarantine(ctx, tx, in, errors.New(res.Reason), now)
			if err != nil {
				return nil, false, retryNone, err
			}
			held.Outcome, held.Kind = OutcomeHeld, res.Kind
			results[i], qids[i] = held, qid
			continue
		case perr == nil:
			results[i] = res
			queued = queued || p.queued
			continue
		case ctx.Err() != nil:
			return nil, false, retryNone, ctx.Err()
		case errors.Is(perr, errRaced), errors.Is(perr, store.ErrDuplicate):
			return nil, false, retryRace, nil
		case store.IsTransient(perr):
			// A deadlock or a lost connection is nobody's message: the
			// whole batch is tried again later.
			return nil, false, retryNone, perr
		}
		e.Log.Error("message failed, quarantined", "source", in.Source.String(), "error", perr)
		failed[i] = fmt.Errorf("processing failed: %w", perr)
		return nil, false, retryFailed, nil
	}
	if err := u.flush(ctx); err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, false, retryNone, ctx.Err()
		case errors.Is(err, store.ErrDuplicate):
			return nil, false, retryRace, nil
		case store.IsTransient(err):
			return nil, false, retryNone, err
		}
		e.Log.Warn("batch write failed; writing message by message to find the cause", "error", err)
		return nil, false, retryCareful, nil
	}
	var uids []store.IntakeUID
	for i := range results {
		r := &results[i]
		if r.pk != nil {
			r.messagePK = r.pk()
		}
		var u store.IntakeUID
		var ok bool
		if failed[i] != nil || r.Outcome == OutcomeHeld {
			u, ok = intakeUID(batch[i].Source, nil, &qids[i])
		} else {
			pk := r.messagePK
			u, ok = intakeUID(batch[i].Source, &pk, nil)
		}
		if ok {
			uids = append(uids, u)
		}
	}
	if err := tx.RecordIntakeUIDs(ctx, uids, now); err != nil {
		return nil, false, retryNone, err
	}
	if after != nil {
		if err := after(tx, results); err != nil {
			return nil, false, retryNone, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, false, retryNone, err
	}
	return results, queued, retryNone, nil
}

// quarantine keeps a message that cannot be processed, so it cannot block
// the queue, and reports it.
func (e *Engine) quarantine(ctx context.Context, tx *store.Tx, in *Inbound, why error, now time.Time) (Result, int64, error) {
	reason := why.Error()
	sum := sha256.Sum256(in.Raw)
	qid, err := tx.Quarantine(ctx, cleanText(in.Source.String()), hex.EncodeToString(sum[:]), cleanText(reason), in.Raw, now)
	if err != nil && !errors.Is(err, store.ErrDuplicate) {
		return Result{}, 0, err
	}
	return Result{Source: in.Source.String(), Outcome: OutcomeQuarantined, Reason: reason + fmt.Sprintf(" (quarantine #%d)", qid)}, qid, nil
}

// intakeUID is the intake record of a message from IMAP: committed, its
// flag/move due. Written with the batch, in the same transaction as the
// message and the checkpoint.
func intakeUID(s Source, messagePK, quarantineID *int64) (store.IntakeUID, bool) {
	if s.Kind != "imap" {
		return store.IntakeUID{}, false
	}
	return store.IntakeUID{Mailbox: s.Mailbox, UIDValidity: s.UIDValidity, UID: s.UID, MessagePK: messagePK, QuarantineID: quarantineID}, true
}

// parseError is a message that cannot be read at all.
type parseError struct{ err error }

func (p *parseError) Error() string { return p.err.Error() }
func (p *parseError) Unwrap() error { return p.err }

// processing is the work on one message.
type processing struct {
	e      *Engine
	u      *unit
	tx     *store.Tx // for test hooks only: everything else goes through u
	in     *Inbound
	now    time.Time
	msg    *mailparse.Message
	fp     *Fingerprint // the mail's, once made (mailFingerprint)
	queued bool
	// events go to the unit with the message.
	events []pendingEvent

	incident     *store.Incident
	problem      *store.Problem    // the problem thread the message joined
	repeat       *store.Problem    // the known problem the new incident is part of, for its acknowledgement
	followUpAck  bool              // the acknowledgement is of a follow-up to the requester's open incident
	linkedNow    []*store.Incident // the incidents the last problem link attached (problems.go)
	refersTo     *store.Problem    // the problem a requester's new mail refers to by its tag
	threadReason string

	// Whether the sender is authenticated, worked out once when needed
	// (see trust.go), and what the message was not allowed to do.
	authDone, authOK bool
	authWhy          string
	denied           []string
	// followsClosed: the message is about this closed incident and opens
	// its follow-up.
	followsClosed *store.Incident
	// informed: the route's informed of the incident the message opened.
	informed []string
	// resolutionQueued: a resolution notice carries what the resolver
	// wrote, so the same text is not relayed as well.
	resolutionQueued bool
}

func (p *processing) run(ctx context.Context) (Result, error) {
	in, msg := p.in, p.msg
	res := Result{Source: in.Source.String(), Kind: string(msg.Kind), MessageID: msg.MessageID}
	row := messageRow(msg, in.Source.String(), p.now)
	pk, inc, dup, err := p.u.duplicate(ctx, store.MessageKey{MessageID: row.MessageID, ContentHash: row.ContentHash})
	if err != nil {
		return res, err
	}
	if dup {
		res.Outcome, res.pk = OutcomeDuplicate, pk
		res.Reason = "already stored (same Message-ID and content)"
		if inc != nil {
			res.Incident = inc.Key
		}
		return res, nil
	}
	// A copy via a list or an alias; not for delivery reports, which
	// say different things about different deliveries whatever their
	// Message-ID.
	if msg.Kind != mailparse.KindBounce {
		// The author, through a list that rewrote From ("Nina via
		// it-staff"): the same person.
		pk, inc, dup, err := p.u.copyOf(ctx, row.MessageID, msg.Author().Addr)
		if err != nil {
			return res, err
		}
		if !dup && msg.Author().Addr != row.FromAddr {
			pk, inc, dup, err = p.u.copyOf(ctx, row.MessageID, row.FromAddr)
			if err != nil {
				return res, err
			}
		}
		if dup {
			res.Outcome, res.pk = OutcomeDuplicate, pk
			res.Reason = "a copy of a stored message (same Message-ID and author; a list or an alias changed its subject or body)"
			if inc != nil {
				res.Incident = inc.Key
				// The list's copy came first and was not answered (a
				// list is never answered); this one came to support@
				// from the person: acknowledge now, once.
				if msg.Kind == mailparse.KindHuman && strings.EqualFold(inc.Requester, msg.From.Addr) {
					p.incident = inc
					if d := DecideAck(msg, p.e.Cfg.Helpdesk.Address, p.u.autoMailSent(msg.From.Addr), p.e.Cfg.Helpdesk.AutoReplyLimit); d.Send {
						if err := p.queueAck(ctx, inc, &res); err != nil {
							return res, err
						}
						// No message row of its own to carry them.
						p.u.events = append(p.u.events, p.events...)
					}
				}
			}
			return res, nil
		}
	}
	if err := p.decide(ctx, &res); err != nil {
		return res, err
	}
	if res.Outcome == OutcomeHeld {
		return res, nil
	}
	if p.incident != nil && res.Incident != "" {
		if err := p.majorAfter(ctx, p.incident, p.informed); err != nil {
			return res, err
		}
	}
	if h := p.e.failHook; h != nil {
		if err := h(ctx, p.tx, msg.Subject); err != nil {
			return res, err
		}
	}
	var joined *store.Incident
	if res.Incident != "" {
		joined = p.incident
	}
	row.ThreadReason, row.Outcome = cleanText(p.threadReason), string(res.Outcome)
	row.Authenticated = p.authDone && p.authOK
	if h := p.e.rowHook; h != nil {
		h(row)
	}
	pm := p.u.addMessage(row, in.Raw, joined, p.problem, p.events)
	res.pk = func() int64 { return pm.row.ID }
	return res, nil
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
		MessageID:    c(m.MessageID),
		ContentHash:  m.ContentHash,
		Direction:    "in",
		Source:       source,
		FromAddr:     c(m.From.Addr),
		FromName:     c(m.From.Name),
		ToAddrs:      c(joinAddrs(m.To)),
		CcAddrs:      c(joinAddrs(m.Cc)),
		InReplyTo:    c(strings.Join(m.InReplyTo, " ")),
		Refs:         c(strings.Join(m.References, " ")),
		Subject:      c(m.Subject),
		Kind:         string(m.Kind),
		KindReason:   c(m.KindReason),
		ThreadIndex:  c(m.ThreadIndex),
		Conversation: ConversationID(m.ThreadIndex),
		TextBody:     c(m.Text),
		NewText:      c(m.NewText),
		Attachments:  c(string(atts)),
		Defects:      c(string(defects)),
		Size:         int64(m.Size),
		DateHeader:   date,
		ReceivedAt:   now,
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
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	q, err := e.Store.GetQuarantine(ctx, id)
	if err != nil {
		return Result{}, err
	}
	if q.Status != "held" {
		return Result{}, fmt.Errorf("quarantine #%d was already %s", id, q.Status)
	}
	batch := []Inbound{{Raw: q.Raw, Source: Source{Kind: "quarantine", Name: fmt.Sprintf("#%d", id)}, release: true}}
	results, err := e.ingest(ctx, batch, func(tx *store.Tx, rs []Result) error {
		if rs[0].Outcome == OutcomeQuarantined {
			return nil
		}
		pk := rs[0].messagePK
		return tx.ResolveQuarantine(ctx, id, &pk, e.Now())
	})
	if err != nil {
		return Result{}, err
	}
	return results[0], nil
}

// Tick is the periodic pass of the daemon (every minute) and of
// "run --once": it runs the engine's jobs (see tick.go), each in its own
// transaction, and returns how many of them ran (the others were not due,
// or another daemon held them). The error is the first job's failure; the
// other jobs still ran. Its cost follows the work that is due, not the
// number of open incidents.
func (e *Engine) Tick(ctx context.Context) (ran int, err error) {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	return e.runJobs(ctx)
}

// cleanText makes a string storable in any TEXT column: valid UTF-8 and no
// NUL bytes (PostgreSQL rejects both). Raw bytes are kept separately, so
// nothing is lost.
func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s // the common case, without a copy
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}
