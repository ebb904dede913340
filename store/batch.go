package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Set-based operations for a batch of incoming mail. The workflow decides
// a whole batch in memory, reading what it needs in a couple of queries
// (PrefetchBatch, IncidentsForBatch), and writes it with one multi-row
// statement per table. Per message that is a few microseconds of server
// work instead of several network round trips.

// maxParams keeps every statement under both engines' limits on bound
// parameters (SQLite 32,766; PostgreSQL 65,535).
const maxParams = 30000

// MessageKey identifies a stored message: its Message-ID and content hash.
type MessageKey struct {
	MessageID   string `json:"m"`
	ContentHash string `json:"h"`
}

// BatchLookup is what PrefetchBatch found.
type BatchLookup struct {
	// Stored messages among the batch, with their ID, IncidentID and
	// Outcome.
	Stored map[MessageKey]*Message
	// ThreadIncident maps a referenced Message-ID (incoming or
	// outgoing) to the incident it belongs to.
	ThreadIncident map[string]int64
	// AutoMailSent counts automatic mail queued to each sender (lower
	// case) since the given time.
	AutoMailSent map[string]int
	// Conversation maps an Outlook conversation id to the incident of a
	// stored message of that conversation.
	Conversation map[string]int64
	// NewIncidents counts the incidents each sender key (see
	// Incident.SenderKey) opened since the given time;
	// NewIncidentsAuthenticated, those of them whose first message was
	// authenticated (Message.Authenticated).
	NewIncidents, NewIncidentsAuthenticated map[string]int
	// SameID lists the stored incoming messages that have the
	// Message-ID of a batch message, whatever their content: ID,
	// MessageID, FromAddr (lower case), IncidentID and Outcome are set.
	SameID map[string][]*Message
	// RefIncident maps a candidate Message-ID that stored mail referred
	// to (message_refs) to the incident of that mail, the oldest first.
	RefIncident map[string]int64
}

// PrefetchBatch answers, in one statement for the whole batch: which of
// keys are stored already, which incidents the candidate Message-IDs
// belong to, and how many automatic mails went to each of senders, and
// how many incidents each of them opened, since a time.
func (r Reader) PrefetchBatch(ctx context.Context, keys []MessageKey, candidates, senders, senderKeys, conversations []string, since time.Time) (*BatchLookup, error) {
	kj, _ := json.Marshal(nonNilKeys(keys))
	cj, _ := json.Marshal(nonNilStrings(candidates))
	lower := make([]string, len(senders))
	for i, s := range senders {
		lower[i] = strings.ToLower(s)
	}
	sj, _ := json.Marshal(lower)
	vj, _ := json.Marshal(nonNilStrings(conversations))
	skj, _ := json.Marshal(nonNilStrings(senderKeys))
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, k.MessageID)
	}
	ij, _ := json.Marshal(ids)
	var hits []struct {
		Pos         int    `db:"pos"`
		ID          int64  `db:"id"`
		MessageID   string `db:"message_id"`
		ContentHash string `db:"content_hash"`
		IncidentID  *int64 `db:"incident_id"`
		Outcome     string `db:"outcome"`
	}
	if err := sqlx.SelectContext(ctx, r.x, &hits, r.s.q("batch-lookup"), string(kj), string(cj), string(cj), string(sj), utc(since), string(vj), string(skj), utc(since), string(ij), string(cj)); err != nil {
		return nil, fmt.Errorf("store: look up batch: %w", err)
	}
	out := &BatchLookup{Stored: map[MessageKey]*Message{}, ThreadIncident: map[string]int64{}, AutoMailSent: map[string]int{},
		Conversation: map[string]int64{}, NewIncidents: map[string]int{}, NewIncidentsAuthenticated: map[string]int{}, SameID: map[string][]*Message{},
		RefIncident: map[string]int64{}}
	for _, h := range hits {
		switch h.Pos {
		case 0:
			out.Stored[MessageKey{h.MessageID, h.ContentHash}] = &Message{ID: h.ID, MessageID: h.MessageID, ContentHash: h.ContentHash, IncidentID: h.IncidentID, Outcome: h.Outcome}
		case 1, 2:
			if _, seen := out.ThreadIncident[h.MessageID]; !seen && h.IncidentID != nil {
				out.ThreadIncident[h.MessageID] = *h.IncidentID
			}
		case 3:
			out.AutoMailSent[h.MessageID] = int(h.ID)
		case 4:
			if _, seen := out.Conversation[h.MessageID]; !seen && h.IncidentID != nil {
				out.Conversation[h.MessageID] = *h.IncidentID
			}
		case 5:
			out.NewIncidents[h.MessageID] = int(h.ID)
			if h.IncidentID != nil {
				out.NewIncidentsAuthenticated[h.MessageID] = int(*h.IncidentID)
			}
		case 7:
			if old, seen := out.RefIncident[h.MessageID]; (!seen || h.ID < old) && h.IncidentID != nil {
				out.RefIncident[h.MessageID] = *h.IncidentID
			}
		case 6:
			out.SameID[h.MessageID] = append(out.SameID[h.MessageID], &Message{ID: h.ID, MessageID: h.MessageID, FromAddr: h.ContentHash,
				IncidentID: h.IncidentID, Outcome: h.Outcome})
		}
	}
	return out, nil
}

func nonNilKeys(k []MessageKey) []MessageKey {
	if k == nil {
		return []MessageKey{}
	}
	return k
}

// IncidentsForBatch reads the incidents with the given ids or keys. On
// PostgreSQL the rows stay locked until the transaction ends, so another
// process cannot change an incident this batch is about to update.
func (r Reader) IncidentsForBatch(ctx context.Context, ids []int64, keys []string) ([]*Incident, error) {
	if len(ids) == 0 && len(keys) == 0 {
		return nil, nil
	}
	ij, _ := json.Marshal(ids)
	if ids == nil {
		ij = []byte("[]")
	}
	kj, _ := json.Marshal(nonNilStrings(keys))
	var out []*Incident
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("incidents-for-batch"), string(ij), string(kj)); err != nil {
		return nil, fmt.Errorf("store: read incidents: %w", err)
	}
	return out, nil
}

// LockCounter reads a counter and, on PostgreSQL, locks its row until the
// transaction ends (SQLite's write transaction excludes other writers
// already). Numbers taken from it are written back with SetCounter.
func (r Reader) LockCounter(ctx context.Context, name string) (int64, error) {
	var v int64
	if err := sqlx.GetContext(ctx, r.x, &v, r.s.q("counter-for-update"), name); err != nil {
		return 0, fmt.Errorf("store: counter %s: %w", name, err)
	}
	return v, nil
}

// SetCounter stores a counter's value.
func (r Reader) SetCounter(ctx context.Context, name string, v int64) error {
	if _, err := r.x.ExecContext(ctx, r.s.q("set-counter"), v, name); err != nil {
		return fmt.Errorf("store: counter %s: %w", name, err)
	}
	return nil
}

// rows runs "head VALUES (…), (…) tail" in chunks under maxParams, with
// one placeholder group per row; scan, if set, reads each chunk's
// RETURNING rows.
func (r Reader) rows(ctx context.Context, head, group, tail string, n, cols int, arg func(i int) []any, scan func(*sqlx.Rows) error) error {
	per := max(1, maxParams/cols)
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString(group)
			args = append(args, arg(i)...)
		}
		b.WriteString(tail)
		q := r.s.db.Rebind(b.String())
		if scan == nil {
			if _, err := r.x.ExecContext(ctx, q, args...); err != nil {
				return err
			}
			continue
		}
		rows, err := r.x.QueryxContext(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func placeholders(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// InsertIncidents stores new incidents (their keys already taken from the
// counter) and sets their IDs.
func (r Reader) InsertIncidents(ctx context.Context, incs []*Incident) error {
	if len(incs) == 0 {
		return nil
	}
	byKey := make(map[string]*Incident, len(incs))
	for _, inc := range incs {
		byKey[inc.Key] = inc
	}
	const cols = 38
	err := r.rows(ctx, `INSERT INTO incidents (key, subject, norm_subject, status, priority, requester, requester_name,
    assignee, category, created_at, updated_at, message_count, fingerprint, problem_id, sender_key,
    sla, paused, response_due, resolution_due, response_breached_at, resolution_breached_at,
    escalation_level, acknowledged_by, clock_generation, next_due_at, major,
    report_status, report_requested_at, report_due_at, report_received_at, report_from, report, report_next_at, report_party,
    acks, acknowledged_at, response_breached_by, resolution_breached_by)`, placeholders(cols), " RETURNING id, key", len(incs), cols,
		func(i int) []any {
			c := incs[i]
			return []any{c.Key, c.Subject, c.NormSubject, c.Status, c.Priority, c.Requester, c.RequesterName,
				c.Assignee, c.Category, utc(c.CreatedAt), utc(c.UpdatedAt), c.MessageCount, c.Fingerprint, c.ProblemID, c.SenderKey,
				c.SLA, c.Paused, nullTime(c.ResponseDue), nullTime(c.ResolutionDue), nullTime(c.ResponseBreachedAt), nullTime(c.ResolutionBreachedAt),
				c.EscalationLevel, c.AcknowledgedBy, c.ClockGeneration, nullTime(c.NextDueAt), c.Major,
				c.ReportStatus, nullTime(c.ReportRequestedAt), nullTime(c.ReportDueAt), nullTime(c.ReportReceivedAt), c.ReportFrom, c.Report,
				nullTime(c.ReportNextAt), c.ReportParty, c.Acks, nullTime(c.AcknowledgedAt), c.ResponseBreachedBy, c.ResolutionBreachedBy}
		},
		func(rows *sqlx.Rows) error {
			var id int64
			var key string
			if err := rows.Scan(&id, &key); err != nil {
				return err
			}
			if inc := byKey[key]; inc != nil {
				inc.ID = id
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("store: insert %d incidents: %w", len(incs), err)
	}
	for _, inc := range incs {
		if inc.ID == 0 {
			return fmt.Errorf("store: incident %s was not stored", inc.Key)
		}
	}
	return nil
}

// UpdateIncidents writes the changing fields of incidents (status and its
// stamps, updated_at, message count, priority, assignee, category, problem,
// the SLA clock's figures) in one statement per chunk.
func (r Reader) UpdateIncidents(ctx context.Context, incs []*Incident) error {
	if len(incs) == 0 {
		return nil
	}
	// PostgreSQL types the VALUES of a CTE as text unless told; SQLite
	// must not be told (a cast to an unknown type name would turn a time
	// into a number).
	c := func(typ string) string {
		if r.s.dialect == Postgres {
			return "CAST(? AS " + typ + ")"
		}
		return "?"
	}
	group := "(" + strings.Join([]string{c("bigint"), c("text"), c("timestamptz"), c("timestamptz"), c("timestamptz"), c("timestamptz"), c("integer"),
		c("text"), c("text"), c("text"), c("bigint"),
		c("text"), c("boolean"), c("timestamptz"), c("timestamptz"), c("timestamptz"), c("timestamptz"), c("integer"), c("text"),
		c("timestamptz"), c("integer"), c("timestamptz"),
		c("text"), c("text"), c("timestamptz"), c("timestamptz"), c("timestamptz"), c("text"), c("text"), c("timestamptz"),
		c("text"), c("text"), c("text"), c("text")}, ", ") + ")"
	err := r.rows(ctx, `WITH v (id, status, updated_at, resolved_at, closed_at, first_response_at, message_count, priority, assignee, category, problem_id,
    sla, paused, response_due, resolution_due, response_breached_at, resolution_breached_at, escalation_level, acknowledged_by,
    acknowledged_at, clock_generation, next_due_at,
    major, report_status, report_requested_at, report_due_at, report_received_at, report_from, report, report_next_at,
    report_party, acks, response_breached_by, resolution_breached_by) AS (`, group,
		`) UPDATE incidents SET status = v.status, updated_at = v.updated_at, resolved_at = v.resolved_at,
    closed_at = v.closed_at, first_response_at = v.first_response_at, message_count = v.message_count,
    priority = v.priority, assignee = v.assignee, category = v.category, problem_id = v.problem_id,
    sla = v.sla, paused = v.paused, response_due = v.response_due, resolution_due = v.resolution_due,
    response_breached_at = v.response_breached_at, resolution_breached_at = v.resolution_breached_at,
    escalation_level = v.escalation_level, acknowledged_by = v.acknowledged_by, acknowledged_at = v.acknowledged_at,
    clock_generation = v.clock_generation, next_due_at = v.next_due_at,
    major = v.major, report_status = v.report_status, report_requested_at = v.report_requested_at,
    report_due_at = v.report_due_at, report_received_at = v.report_received_at, report_from = v.report_from,
    report = v.report, report_next_at = v.report_next_at, report_party = v.report_party, acks = v.acks,
    response_breached_by = v.response_breached_by, resolution_breached_by = v.resolution_breached_by
FROM v WHERE incidents.id = v.id`, len(incs), 34,
		func(i int) []any {
			x := incs[i]
			return []any{x.ID, x.Status, utc(x.UpdatedAt), nullTime(x.ResolvedAt), nullTime(x.ClosedAt), nullTime(x.FirstResponseAt), x.MessageCount,
				x.Priority, x.Assignee, x.Category, x.ProblemID,
				x.SLA, x.Paused, nullTime(x.ResponseDue), nullTime(x.ResolutionDue), nullTime(x.ResponseBreachedAt), nullTime(x.ResolutionBreachedAt),
				x.EscalationLevel, x.AcknowledgedBy, nullTime(x.AcknowledgedAt), x.ClockGeneration, nullTime(x.NextDueAt),
				x.Major, x.ReportStatus, nullTime(x.ReportRequestedAt), nullTime(x.ReportDueAt), nullTime(x.ReportReceivedAt),
				x.ReportFrom, x.Report, nullTime(x.ReportNextAt), x.ReportParty, x.Acks, x.ResponseBreachedBy, x.ResolutionBreachedBy}
		}, nil)
	if err != nil {
		return fmt.Errorf("store: update %d incidents: %w", len(incs), err)
	}
	return nil
}

// InsertMessages stores messages with their raw bytes (raws[i] belongs to
// ms[i]) and sets their IDs. If one of them is stored already (another
// process got there first) it returns ErrDuplicate; the caller rolls back
// and runs the batch again.
func (r Reader) InsertMessages(ctx context.Context, ms []*Message, raws [][]byte) error {
	if len(ms) == 0 {
		return nil
	}
	byKey := make(map[MessageKey]*Message, len(ms))
	for _, m := range ms {
		byKey[MessageKey{m.MessageID, m.ContentHash}] = m
	}
	const cols = 27
	err := r.rows(ctx, `INSERT INTO messages (message_id, content_hash, direction, source, from_addr, from_name,
    to_addrs, cc_addrs, subject, kind, kind_reason, in_reply_to, refs, thread_index,
    text_body, new_text, attachments, defects, size, date_header, received_at,
    incident_id, thread_reason, outcome, conversation, problem_id, authenticated)`, placeholders(cols),
		" ON CONFLICT (message_id, content_hash) DO NOTHING RETURNING id, message_id, content_hash", len(ms), cols,
		func(i int) []any {
			m := ms[i]
			return []any{m.MessageID, m.ContentHash, m.Direction, m.Source, m.FromAddr, m.FromName,
				m.ToAddrs, m.CcAddrs, m.Subject, m.Kind, m.KindReason, m.InReplyTo, m.Refs, m.ThreadIndex,
				m.TextBody, storedNewText(m), m.Attachments, m.Defects, m.Size, nullTime(m.DateHeader), utc(m.ReceivedAt),
				m.IncidentID, m.ThreadReason, m.Outcome, m.Conversation, m.ProblemID, m.Authenticated}
		},
		func(rows *sqlx.Rows) error {
			var id int64
			var k MessageKey
			if err := rows.Scan(&id, &k.MessageID, &k.ContentHash); err != nil {
				return err
			}
			if m := byKey[k]; m != nil {
				m.ID = id
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("store: insert %d messages: %w", len(ms), err)
	}
	for _, m := range ms {
		if m.ID == 0 {
			return ErrDuplicate
		}
	}
	// Raw bytes are large: fewer rows per statement keeps each one a few
	// megabytes at most.
	const rawRows = 100
	for start := 0; start < len(ms); start += rawRows {
		end := min(start+rawRows, len(ms))
		err := r.rows(ctx, `INSERT INTO message_raw (message_pk, raw)`, "(?, ?)", "", end-start, 2,
			func(i int) []any { return []any{ms[start+i].ID, raws[start+i]} }, nil)
		if err != nil {
			return fmt.Errorf("store: insert raw messages: %w", err)
		}
	}
	return nil
}

// EnqueueAll adds mails to the outbox. A row whose dedupe key or
// Message-ID exists already is skipped, as Enqueue would report.
func (r Reader) EnqueueAll(ctx context.Context, os []*Outbox) error {
	if len(os) == 0 {
		return nil
	}
	const cols = 19
	err := r.rows(ctx, `INSERT INTO outbox (incident_id, problem_id, kind, message_id, dedupe_key, from_addr, to_addrs, cc_addrs,
    reply_to, subject, text_body, html_body, in_reply_to, refs, auto_submitted, rcpt_key, attachments,
    status, next_attempt_at, created_at)`, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)", " ON CONFLICT DO NOTHING", len(os), cols,
		func(i int) []any {
			o := os[i]
			atts := o.Attachments
			if atts == "" {
				atts = "[]"
			}
			return []any{o.IncidentID, o.ProblemID, o.Kind, o.MessageID, o.DedupeKey, o.FromAddr, o.ToAddrs, o.CcAddrs, o.ReplyTo,
				o.Subject, o.TextBody, o.HTMLBody, o.InReplyTo, o.Refs, o.AutoSubmitted, strings.ToLower(o.RcptKey), atts,
				utc(o.NextAttemptAt), utc(o.CreatedAt)}
		}, nil)
	if err != nil {
		return fmt.Errorf("store: enqueue %d mails: %w", len(os), err)
	}
	for _, o := range os {
		o.Status = OutboxQueued
	}
	return nil
}

// storedNewText is the new_text column: empty when the stripped text is
// the whole text (a first message, a reply without quotes), which halves
// what most messages store; readers get text_body back in its place.
func storedNewText(m *Message) string {
	if m.NewText == m.TextBody {
		return ""
	}
	return m.NewText
}

// ThreadRef is a Message-ID that a stored message of an incident refers
// to.
type ThreadRef struct {
	Ref        string
	IncidentID int64
}

// InsertThreadRefs records the Message-IDs stored mail refers to;
// pairs already known are skipped.
func (r Reader) InsertThreadRefs(ctx context.Context, refs []ThreadRef) error {
	err := r.rows(ctx, `INSERT INTO message_refs (ref, incident_id)`, "(?, ?)", " ON CONFLICT DO NOTHING", len(refs), 2,
		func(i int) []any { return []any{refs[i].Ref, refs[i].IncidentID} }, nil)
	if err != nil {
		return fmt.Errorf("store: record %d references: %w", len(refs), err)
	}
	return nil
}

// InsertIncidentTokens indexes the words of new incidents' fingerprints,
// so that RepeatCandidates finds earlier occurrences without a scan.
func (r Reader) InsertIncidentTokens(ctx context.Context, incs []*Incident) error {
	type row struct {
		token string
		inc   *Incident
	}
	var rows []row
	for _, inc := range incs {
		for _, t := range strings.Fields(inc.Fingerprint) {
			rows = append(rows, row{t, inc})
		}
	}
	err := r.rows(ctx, `INSERT INTO incident_tokens (token, created_at, incident_id)`, "(?, ?, ?)", " ON CONFLICT DO NOTHING", len(rows), 3,
		func(i int) []any { return []any{rows[i].token, utc(rows[i].inc.CreatedAt), rows[i].inc.ID} }, nil)
	if err != nil {
		return fmt.Errorf("store: index %d fingerprint words: %w", len(rows), err)
	}
	return nil
}

// RepeatCandidates returns incidents created after since that share a word
// of fingerprint, most recent first, at most limit: the index
// (token, created_at) answers it, whatever the size of the history.
// Incidents whose fingerprint "#not-problem" parted from this one are
// left out in the same statement.
func (r Reader) RepeatCandidates(ctx context.Context, fingerprint string, since time.Time, limit int) ([]Candidate, error) {
	tj, _ := json.Marshal(nonNilStrings(strings.Fields(fingerprint)))
	var out []Candidate
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("repeat-candidates"), string(tj), utc(since), fingerprint, limit); err != nil {
		return nil, fmt.Errorf("store: repeat candidates: %w", err)
	}
	return out, nil
}

// InsertProblems stores new problems (keys taken from the "problem"
// counter) and sets their IDs.
func (r Reader) InsertProblems(ctx context.Context, ps []*Problem) error {
	byKey := map[string]*Problem{}
	for _, p := range ps {
		byKey[p.Key] = p
	}
	err := r.rows(ctx, `INSERT INTO problems (key, title, status, fingerprint, created_at, updated_at)`, placeholders(6), " RETURNING id, key", len(ps), 6,
		func(i int) []any {
			p := ps[i]
			return []any{p.Key, p.Title, p.Status, p.Fingerprint, utc(p.CreatedAt), utc(p.UpdatedAt)}
		},
		func(rows *sqlx.Rows) error {
			var id int64
			var key string
			if err := rows.Scan(&id, &key); err != nil {
				return err
			}
			if p := byKey[key]; p != nil {
				p.ID = id
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("store: insert %d problems: %w", len(ps), err)
	}
	return nil
}

// UpdateProblem writes a problem's changing fields: status and its
// resolved stamp, title, root cause, workaround and fix.
func (r Reader) UpdateProblem(ctx context.Context, p *Problem) error {
	if _, err := r.x.ExecContext(ctx, r.s.q("update-problem"), p.Status, p.Title, p.RootCause, p.Workaround, p.Fix,
		utc(p.UpdatedAt), nullTime(p.ResolvedAt), p.ID); err != nil {
		return fmt.Errorf("store: problem %s: %w", p.Key, err)
	}
	return nil
}

// ProblemForBatch reads a problem by id or key (PRB-7) for a batch that
// may change it; on PostgreSQL the row stays locked until the transaction
// ends, as IncidentsForBatch does for incidents.
func (r Reader) ProblemForBatch(ctx context.Context, id int64, key string) (*Problem, error) {
	var p Problem
	if err := sqlx.GetContext(ctx, r.x, &p, r.s.q("problem-for-batch"), id, key); err != nil {
		return nil, noRows(err)
	}
	return &p, nil
}

// ProblemByID finds a problem.
func (r Reader) ProblemByID(ctx context.Context, id int64) (*Problem, error) {
	var p Problem
	if err := sqlx.GetContext(ctx, r.x, &p, r.s.q("problem-by-id"), id); err != nil {
		return nil, noRows(err)
	}
	return &p, nil
}

// ProblemByKey finds a problem by its key (PRB-7).
func (r Reader) ProblemByKey(ctx context.Context, key string) (*Problem, error) {
	var p Problem
	if err := sqlx.GetContext(ctx, r.x, &p, r.s.q("problem-by-key"), key); err != nil {
		return nil, noRows(err)
	}
	return &p, nil
}

// ListProblems lists every problem, newest first.
func (r Reader) ListProblems(ctx context.Context) ([]Problem, error) {
	var out []Problem
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("list-problems")); err != nil {
		return nil, fmt.Errorf("store: list problems: %w", err)
	}
	return out, nil
}

// ProblemIncidents lists the incidents linked to a problem, oldest first.
func (r Reader) ProblemIncidents(ctx context.Context, problemID int64) ([]Incident, error) {
	var out []Incident
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("problem-incidents"), problemID); err != nil {
		return nil, fmt.Errorf("store: problem incidents: %w", err)
	}
	return out, nil
}

// ExclusionsFor returns the "#not-problem" pairs of the given
// fingerprints: for each, the fingerprints it must not be linked with.
func (r Reader) ExclusionsFor(ctx context.Context, fingerprints []string) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	if len(fingerprints) == 0 {
		return out, nil
	}
	fj, _ := json.Marshal(fingerprints)
	var rows []Exclusion
	if err := sqlx.SelectContext(ctx, r.x, &rows, r.s.q("exclusions-for"), string(fj)); err != nil {
		return nil, fmt.Errorf("store: not-problem pairs: %w", err)
	}
	for _, x := range rows {
		if out[x.Fingerprint] == nil {
			out[x.Fingerprint] = map[string]bool{}
		}
		out[x.Fingerprint][x.Other] = true
	}
	return out, nil
}

// AddExclusion remembers that two fingerprints are not the same issue
// (both ways round).
func (r Reader) AddExclusion(ctx context.Context, a, b, actor string, at time.Time) error {
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		if _, err := r.x.ExecContext(ctx, r.s.q("insert-exclusion"), pair[0], pair[1], actor, utc(at)); err != nil {
			return fmt.Errorf("store: not-problem pair: %w", err)
		}
		if a == b {
			break
		}
	}
	return nil
}

// DeleteExclusion forgets a "#not-problem" pair: "#problem" overrides it.
func (r Reader) DeleteExclusion(ctx context.Context, a, b string) error {
	if _, err := r.x.ExecContext(ctx, r.s.q("delete-exclusion"), a, b, b, a); err != nil {
		return fmt.Errorf("store: forget not-problem pair: %w", err)
	}
	return nil
}

// ProblemMessages lists the messages of a problem's own thread.
func (r Reader) ProblemMessages(ctx context.Context, id int64) ([]Message, error) {
	var out []Message
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("problem-messages"), id); err != nil {
		return nil, fmt.Errorf("store: problem messages: %w", err)
	}
	return out, nil
}

// ProblemEvents lists a problem's audit trail.
func (r Reader) ProblemEvents(ctx context.Context, id int64) ([]Event, error) {
	var out []Event
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("problem-events"), id); err != nil {
		return nil, fmt.Errorf("store: problem events: %w", err)
	}
	return out, nil
}

// ProblemOutbox lists the mail sent about a problem.
func (r Reader) ProblemOutbox(ctx context.Context, id int64) ([]Outbox, error) {
	var out []Outbox
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("problem-outbox"), id); err != nil {
		return nil, fmt.Errorf("store: problem outbox: %w", err)
	}
	return out, nil
}

// InsertClockEvents stores clock events (their incidents stored already).
func (r Reader) InsertClockEvents(ctx context.Context, evs []*ClockEvent) error {
	err := r.rows(ctx, `INSERT INTO clock_events (incident_id, at, kind, party, policy, promise, priority, metric, note)`, placeholders(9), "", len(evs), 9,
		func(i int) []any {
			e := evs[i]
			return []any{e.IncidentID, utc(e.At), e.Kind, e.Party, e.Policy, e.Promise, e.Priority, e.Metric, e.Note}
		}, nil)
	if err != nil {
		return fmt.Errorf("store: record %d clock events: %w", len(evs), err)
	}
	return nil
}

// ClockEvents returns the clock events of incidents, by incident, in the
// order they were recorded.
func (r Reader) ClockEvents(ctx context.Context, incidentIDs []int64) (map[int64][]ClockEvent, error) {
	out := map[int64][]ClockEvent{}
	if len(incidentIDs) == 0 {
		return out, nil
	}
	ij, _ := json.Marshal(incidentIDs)
	var rows []ClockEvent
	if err := sqlx.SelectContext(ctx, r.x, &rows, r.s.q("clock-events"), string(ij)); err != nil {
		return nil, fmt.Errorf("store: clock events: %w", err)
	}
	for _, e := range rows {
		out[e.IncidentID] = append(out[e.IncidentID], e)
	}
	return out, nil
}

// TokenDF counts the fingerprint words of the whole history: n is the
// number of incidents with a fingerprint, counts the incidents carrying
// each word (from the incident_tokens index). Repeat detection weighs
// words by it (inverse document frequency); it is a full count, meant to
// be read now and then (the problems-df tick job), not per decision.
func (r Reader) TokenDF(ctx context.Context) (n int, counts map[string]int, err error) {
	if err := sqlx.GetContext(ctx, r.x, &n, r.s.q("count-fingerprinted")); err != nil {
		return 0, nil, fmt.Errorf("store: count fingerprinted incidents: %w", err)
	}
	rows, err := r.x.QueryxContext(ctx, r.s.q("token-df"))
	if err != nil {
		return 0, nil, fmt.Errorf("store: count fingerprint words: %w", err)
	}
	defer rows.Close()
	counts = map[string]int{}
	for rows.Next() {
		var tok string
		var c int
		if err := rows.Scan(&tok, &c); err != nil {
			return 0, nil, fmt.Errorf("store: count fingerprint words: %w", err)
		}
		counts[tok] = c
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("store: count fingerprint words: %w", err)
	}
	return n, counts, nil
}

// ProblemsUpdatedSince lists the ids of problems not resolved that
// changed after since (a link is a change), oldest first: those the
// problem-digest job looks at.
func (r Reader) ProblemsUpdatedSince(ctx context.Context, since time.Time) ([]int64, error) {
	var out []int64
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("problems-updated-since"), utc(since)); err != nil {
		return nil, fmt.Errorf("store: problems updated since %s: %w", since.Format(time.RFC3339), err)
	}
	return out, nil
}

// DueIncidents returns, locked on PostgreSQL (skipping rows another
// transaction holds), at most limit incidents whose clocks have work at or
// before now, the earliest first: the index on next_due_at answers it
// whatever the number of open incidents.
func (r Reader) DueIncidents(ctx context.Context, now time.Time, limit int) ([]*Incident, error) {
	var out []*Incident
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("due-incidents"), utc(now), limit); err != nil {
		return nil, fmt.Errorf("store: due incidents: %w", err)
	}
	return out, nil
}

// DueReports returns, locked on PostgreSQL like DueIncidents, at most
// limit major incidents whose owed report has a reminder or an escalation
// at or before now (report_next_at), the earliest first, through the
// index on report_next_at.
func (r Reader) DueReports(ctx context.Context, now time.Time, limit int) ([]*Incident, error) {
	var out []*Incident
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("due-reports"), utc(now), limit); err != nil {
		return nil, fmt.Errorf("store: due major incident reports: %w", err)
	}
	return out, nil
}

// OpenClockIncidents returns, in id order after a given id, at most limit
// incidents that are neither resolved nor closed and have SLA clocks;
// locked on PostgreSQL like the incidents of a batch.
func (r Reader) OpenClockIncidents(ctx context.Context, after int64, limit int) ([]*Incident, error) {
	var out []*Incident
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("open-clock-incidents"), after, limit); err != nil {
		return nil, fmt.Errorf("store: open incidents with clocks: %w", err)
	}
	return out, nil
}

// OpenIncidentsOf lists a sender's incidents (by sender key: see
// Incident.SenderKey) created after since that are neither resolved nor
// closed and have a fingerprint, newest first, at most limit; through
// the (sender_key, created_at) index.
func (r Reader) OpenIncidentsOf(ctx context.Context, senderKey string, since time.Time, limit int) ([]Incident, error) {
	var out []Incident
	if err := sqlx.SelectContext(ctx, r.x, &out, r.s.q("open-incidents-of"), senderKey, utc(since), limit); err != nil {
		return nil, fmt.Errorf("store: open incidents of %s: %w", senderKey, err)
	}
	return out, nil
}

// OpeningSender is the From address of the first incoming message of an
// incident, and whether that message was authenticated ("", false when
// it has none).
func (r Reader) OpeningSender(ctx context.Context, incidentID int64) (string, bool, error) {
	var rows []struct {
		From          string `db:"from_addr"`
		Authenticated bool   `db:"authenticated"`
	}
	err := sqlx.SelectContext(ctx, r.x, &rows, r.x.Rebind(`SELECT from_addr, authenticated FROM messages
WHERE incident_id = ? AND direction = 'in' ORDER BY id LIMIT 1`), incidentID)
	if err != nil {
		return "", false, fmt.Errorf("store: opening message of incident %d: %w", incidentID, err)
	}
	if len(rows) == 0 {
		return "", false, nil
	}
	return rows[0].From, rows[0].Authenticated, nil
}
