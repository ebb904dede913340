package store

import (
	"context"
	"fmt"
	"github.com/jmoiron/sqlx"
	"strings"
	"time"
)

// SummaryRun records that a summary of one period was queued: the
// once-only key of the summaries (name, period).
type SummaryRun struct {
	Name      string    `db:"name"`
	Period    string    `db:"period"` // the period's key: "2026-W48"
	DueAt     time.Time `db:"due_at"`
	QueuedAt  time.Time `db:"queued_at"`
	Late      bool      `db:"late"`       // queued after the next run was due, or an hour or more after its own
	MessageID string    `db:"message_id"` // "" for a period on record as not sent
}

// OutboxFile is a generated file an outgoing mail carries: inline (with
// a ContentID, referred to as cid: from the HTML) or attached.
type OutboxFile struct {
	ID          int64  `db:"id"`
	OutboxID    int64  `db:"outbox_id"`
	Position    int    `db:"position"`
	Filename    string `db:"filename"`
	ContentType string `db:"content_type"`
	ContentID   string `db:"content_id"` // without <>; "" for an attachment
	Data        []byte `db:"data"`
}

// QueueSummary records run and, when it is new, queues o with its files,
// all in the transaction. It reports false, and queues nothing, when the
// run is recorded already (the period was sent, by this daemon or
// another).
//
// A nil o records the period as not sent (MessageID empty): a summary new
// to the configuration starts with the next period.
func (t *Tx) QueueSummary(ctx context.Context, run SummaryRun, o *Outbox, files []OutboxFile) (bool, error) {
	msgID := ""
	if o != nil {
		msgID = o.MessageID
	}
	res, err := t.x.ExecContext(ctx, t.x.Rebind(`INSERT INTO summary_runs (name, period, due_at, queued_at, late, message_id)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`), run.Name, run.Period, utc(run.DueAt), utc(run.QueuedAt), run.Late, msgID)
	if err != nil {
		return false, fmt.Errorf("store: record summary %s %s: %w", run.Name, run.Period, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 || o == nil {
		return false, err
	}
	o.Files = len(files)
	err = t.x.QueryRowxContext(ctx, t.x.Rebind(`INSERT INTO outbox (incident_id, problem_id, kind, message_id, dedupe_key, from_addr,
    to_addrs, cc_addrs, reply_to, subject, text_body, html_body, in_reply_to, refs, auto_submitted, rcpt_key, attachments, files,
    status, next_attempt_at, created_at)
VALUES (NULL, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', ?, '', '[]', ?, 'queued', ?, ?) RETURNING id`),
		o.Kind, o.MessageID, o.DedupeKey, o.FromAddr, o.ToAddrs, o.CcAddrs, o.ReplyTo, o.Subject, o.TextBody, o.HTMLBody,
		o.AutoSubmitted, o.Files, utc(o.NextAttemptAt), utc(o.CreatedAt)).Scan(&o.ID)
	if err != nil {
		return false, fmt.Errorf("store: queue summary %s %s: %w", run.Name, run.Period, err)
	}
	o.Status = OutboxQueued
	for i := range files {
		f := &files[i]
		f.OutboxID, f.Position = o.ID, i
		if _, err := t.x.ExecContext(ctx, t.x.Rebind(`INSERT INTO outbox_files (outbox_id, position, filename, content_type, content_id, data)
VALUES (?, ?, ?, ?, ?, ?)`), f.OutboxID, f.Position, f.Filename, f.ContentType, f.ContentID, f.Data); err != nil {
			return false, fmt.Errorf("store: file %s of summary %s %s: %w", f.Filename, run.Name, run.Period, err)
		}
	}
	return true, nil
}

// SummaryRuns lists the recorded runs of a summary, newest period first.
func (r Reader) SummaryRuns(ctx context.Context, name string) ([]SummaryRun, error) {
	var out []SummaryRun
	err := sqlx.SelectContext(ctx, r.x, &out, r.x.Rebind(`SELECT * FROM summary_runs WHERE name = ? ORDER BY due_at DESC`), name)
	if err != nil {
		return nil, fmt.Errorf("store: summary runs of %s: %w", name, err)
	}
	return out, nil
}

// SummaryRunOf returns the run of a summary's period; ErrNotFound if
// none was recorded.
func (r Reader) SummaryRunOf(ctx context.Context, name, period string) (*SummaryRun, error) {
	var out []SummaryRun
	err := sqlx.SelectContext(ctx, r.x, &out, r.x.Rebind(`SELECT * FROM summary_runs WHERE name = ? AND period = ?`), name, period)
	if err != nil {
		return nil, fmt.Errorf("store: summary run %s %s: %w", name, period, err)
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return &out[0], nil
}

// OutboxFiles returns the generated files of an outgoing mail in order.
func (r Reader) OutboxFiles(ctx context.Context, outboxID int64) ([]OutboxFile, error) {
	var out []OutboxFile
	err := sqlx.SelectContext(ctx, r.x, &out, r.x.Rebind(`SELECT * FROM outbox_files WHERE outbox_id = ? ORDER BY position`), outboxID)
	if err != nil {
		return nil, fmt.Errorf("store: files of mail %d: %w", outboxID, err)
	}
	return out, nil
}

// SummaryIncident is what a summary reads of an incident.
type SummaryIncident struct {
	ID                   int64      `db:"id"`
	Key                  string     `db:"key"`
	Subject              string     `db:"subject"`
	Status               Status     `db:"status"`
	Priority             Priority   `db:"priority"`
	Assignee             string     `db:"assignee"`
	SLA                  string     `db:"sla"`
	CreatedAt            time.Time  `db:"created_at"`
	FirstResponseAt      *time.Time `db:"first_response_at"`
	ResolvedAt           *time.Time `db:"resolved_at"`
	ClosedAt             *time.Time `db:"closed_at"`
	ResponseDue          *time.Time `db:"response_due"`
	ResolutionDue        *time.Time `db:"resolution_due"`
	ResponseBreachedAt   *time.Time `db:"response_breached_at"`
	ResolutionBreachedAt *time.Time `db:"resolution_breached_at"`
	ResponseBreachedBy   string     `db:"response_breached_by"`
	ResolutionBreachedBy string     `db:"resolution_breached_by"`
	EscalationLevel      int        `db:"escalation_level"`
	AcknowledgedBy       string     `db:"acknowledged_by"`
	AcknowledgedAt       *time.Time `db:"acknowledged_at"`
	ProblemID            *int64     `db:"problem_id"`
	Major                string     `db:"major"`
	ReportStatus         string     `db:"report_status"`
	ReportDueAt          *time.Time `db:"report_due_at"`
	ReportReceivedAt     *time.Time `db:"report_received_at"`
	// Repeat is true when the incident is a later occurrence of its
	// problem (not the problem's first incident).
	Repeat bool `db:"repeat"`
}

// EachSummaryIncident calls fn, through a cursor, for every incident a
// summary of the window [from, to) needs: opened in it, resolved or
// closed in it or after it, or still open; each once, in id order. The
// incident passed to fn is reused.
func (r Reader) EachSummaryIncident(ctx context.Context, from, to time.Time, fn func(*SummaryIncident) error) error {
	rows, err := r.x.QueryxContext(ctx, r.s.q("summary-incidents"), utc(from), utc(to), utc(from), utc(from), utc(from), utc(from), utc(from))
	if err != nil {
		return fmt.Errorf("store: summary incidents: %w", err)
	}
	defer rows.Close()
	var row SummaryIncident
	for rows.Next() {
		row = SummaryIncident{}
		if err := rows.StructScan(&row); err != nil {
			return fmt.Errorf("store: summary incidents: %w", err)
		}
		if err := fn(&row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: summary incidents: %w", err)
	}
	return nil
}

// Setting returns a kept value ("" when none is kept).
func (r Reader) Setting(ctx context.Context, name string) (string, error) {
	var out []string
	if err := sqlx.SelectContext(ctx, r.x, &out, r.x.Rebind(`SELECT value FROM settings WHERE name = ?`), name); err != nil {
		return "", fmt.Errorf("store: setting %s: %w", name, err)
	}
	if len(out) == 0 {
		return "", nil
	}
	return out[0], nil
}

// SetSetting keeps a value under name, replacing the one kept.
func (r Reader) SetSetting(ctx context.Context, name, value string) error {
	_, err := r.x.ExecContext(ctx, r.x.Rebind(`INSERT INTO settings (name, value) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET value = excluded.value`), name, value)
	if err != nil {
		return fmt.Errorf("store: set %s: %w", name, err)
	}
	return nil
}

// PeriodCounts are a period's figures for a summary's history.
type PeriodCounts struct {
	Opened, Resolved             int
	RespMet, RespN, ResMet, ResN int
}

// SummaryHistory counts each period's figures for a summary's history:
// incidents opened and resolved in it, and the first response and
// resolution targets decided in it (met at the reply or resolution in
// time, breached at the breach), as the summary's own reading of the
// incidents counts them. Each figure is an index range count (see
// migration 0014), all in one statement. assignee "" counts every
// incident, else only that party's.
func (r Reader) SummaryHistory(ctx context.Context, periods [][2]time.Time, assignee string) ([]PeriodCounts, error) {
	out := make([]PeriodCounts, len(periods))
	if len(periods) == 0 {
		return out, nil
	}
	var subs []string
	var args []any
	// A breach counts against who held the incident then; the rest for
	// its holder.
	count := func(col, where string, p [2]time.Time) {
		scope := ""
		if assignee != "" {
			scope = " AND assignee = ?"
			switch col {
			case "response_breached_at":
				scope = " AND COALESCE(NULLIF(response_breached_by, ''), assignee) = ?"
			case "resolution_breached_at":
				scope = " AND COALESCE(NULLIF(resolution_breached_by, ''), assignee) = ?"
			}
		}
		subs = append(subs, fmt.Sprintf("(SELECT COUNT(*) FROM incidents WHERE %s >= ? AND %s < ?%s%s)", col, col, where, scope))
		args = append(args, utc(p[0]), utc(p[1]))
		if assignee != "" {
			args = append(args, assignee)
		}
	}
	const (
		respMet   = " AND response_due IS NOT NULL AND response_breached_at IS NULL AND first_response_at IS NOT NULL"
		resMet    = " AND resolution_due IS NOT NULL AND resolution_breached_at IS NULL AND resolved_at IS NOT NULL"
		resMetCl  = " AND resolution_due IS NOT NULL AND resolution_breached_at IS NULL AND resolved_at IS NULL AND closed_at IS NOT NULL"
		perPeriod = 7
	)
	for _, p := range periods {
		count("created_at", "", p)
		count("resolved_at", "", p)
		count("response_breached_at", "", p)
		count("first_response_at", respMet, p)
		count("resolution_breached_at", "", p)
		count("resolved_at", resMet, p)
		count("closed_at", resMetCl, p)
	}
	vals := make([]int64, perPeriod*len(periods))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := r.x.QueryRowxContext(ctx, r.x.Rebind("SELECT "+strings.Join(subs, ", ")), args...).Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("store: summary history: %w", err)
	}
	for i := range periods {
		v := vals[perPeriod*i:]
		met, resMetN := int(v[3]), int(v[5]+v[6])
		out[i] = PeriodCounts{Opened: int(v[0]), Resolved: int(v[1]), RespMet: met, RespN: int(v[2]) + met,
			ResMet: resMetN, ResN: int(v[4]) + resMetN}
	}
	return out, nil
}
