package store

import "time"

// Status is an incident's status (DESIGN: new, open, waiting, resolved,
// closed). Waiting pauses the SLA clocks; resolved and closed end them.
type Status string

// Priority is an incident's priority, "P1" (highest) to "P5".
type Priority string

// Incident statuses.
const (
	StatusNew      Status = "new"
	StatusOpen     Status = "open"
	StatusWaiting  Status = "waiting"
	StatusResolved Status = "resolved"
	StatusClosed   Status = "closed"
)

// Incident is one row of incidents.
type Incident struct {
	ID              int64      `db:"id"`
	Key             string     `db:"key"`
	Subject         string     `db:"subject"`
	NormSubject     string     `db:"norm_subject"`
	Status          Status     `db:"status"`
	Priority        Priority   `db:"priority"`
	Requester       string     `db:"requester"`
	RequesterName   string     `db:"requester_name"`
	Assignee        string     `db:"assignee"`
	Category        string     `db:"category"`
	ProblemID       *int64     `db:"problem_id"`
	CreatedAt       time.Time  `db:"created_at"`
	UpdatedAt       time.Time  `db:"updated_at"`
	FirstResponseAt *time.Time `db:"first_response_at"`
	ResolvedAt      *time.Time `db:"resolved_at"`
	ClosedAt        *time.Time `db:"closed_at"`
	ResponseDue     *time.Time `db:"response_due"`
	ResolutionDue   *time.Time `db:"resolution_due"`
	EscalationLevel int        `db:"escalation_level"`
	MessageCount    int        `db:"message_count"`
	Fingerprint     string     `db:"fingerprint"`
	// SenderKey is the requester's address in lower case without a
	// +tag, for [helpdesk] new_incident_limit.
	SenderKey string `db:"sender_key"`
	// The SLA clock's derived figures (see clock_events): the promise's
	// policy, whether waiting on the requester, when each target was
	// breached, who acknowledged the breach, the clock generation (a
	// reopen starts the next) and when the tick next has work for it.
	SLA                  string     `db:"sla"`
	Paused               bool       `db:"paused"`
	ResponseBreachedAt   *time.Time `db:"response_breached_at"`
	ResolutionBreachedAt *time.Time `db:"resolution_breached_at"`
	AcknowledgedBy       string     `db:"acknowledged_by"`
	AcknowledgedAt       *time.Time `db:"acknowledged_at"`
	ClockGeneration      int        `db:"clock_generation"`
	NextDueAt            *time.Time `db:"next_due_at"`
	// Major incident: Major is "" (not major), MajorDeclared or MajorOff
	// ("#major off": its priority no longer declares it). The report owed
	// after its resolution: ReportStatus (see the Report* constants),
	// when it was requested and is due, when and from whom it came, the
	// parsed report as JSON, and when the tick next has a reminder or an
	// escalation for it.
	Major             string     `db:"major"`
	ReportStatus      string     `db:"report_status"`
	ReportRequestedAt *time.Time `db:"report_requested_at"`
	ReportDueAt       *time.Time `db:"report_due_at"`
	ReportReceivedAt  *time.Time `db:"report_received_at"`
	ReportFrom        string     `db:"report_from"`
	Report            string     `db:"report"`
	ReportNextAt      *time.Time `db:"report_next_at"`
	// ReportParty is the team or provider that owes the report: the one
	// that held the incident when the report was requested.
	ReportParty string `db:"report_party"`
	// Acks are the acknowledgements of breaches by party, as JSON
	// {"party": {"by": addr, "at": time}}: each party's chain
	// acknowledges its own breaches (AcknowledgedBy/At: the latest).
	Acks string `db:"acks"`
	// Who held the incident when the promise's first response and
	// resolution targets were breached (the party the breach counts
	// against).
	ResponseBreachedBy   string `db:"response_breached_by"`
	ResolutionBreachedBy string `db:"resolution_breached_by"`
	// ProblemKey is the key of ProblemID, when a query joins it.
	ProblemKey *string `db:"problem_key"`
}

// The values of Incident.Major.
const (
	MajorDeclared = "declared"
	MajorOff      = "off"
)

// IsMajor reports whether the incident is a major incident.
func (i *Incident) IsMajor() bool { return i.Major == MajorDeclared }

// Major incident report statuses (Incident.ReportStatus; "" is none).
// "overdue" is not stored: it is a requested or partial report past its
// due time (see ReportState).
const (
	ReportRequested = "requested"
	ReportPartial   = "partial"
	ReportReceived  = "received"
	ReportAccepted  = "accepted"
	ReportOverdue   = "overdue"
	ReportNone      = "none"
)

// ReportState is the report status people see at now: none, requested,
// partial, received, accepted, or overdue (requested or partial past its
// due time).
func (i *Incident) ReportState(now time.Time) string {
	switch i.ReportStatus {
	case "":
		return ReportNone
	case ReportRequested, ReportPartial:
		if i.ReportDueAt != nil && !now.Before(*i.ReportDueAt) {
			return ReportOverdue
		}
	}
	return i.ReportStatus
}

// Problem statuses.
const (
	ProblemOpen       = "open"
	ProblemKnownError = "known_error"
	ProblemResolved   = "resolved"
)

// Problem is a recurring issue behind several incidents.
type Problem struct {
	ID          int64      `db:"id"`
	Key         string     `db:"key"`
	Title       string     `db:"title"`
	Status      string     `db:"status"`
	Fingerprint string     `db:"fingerprint"`
	RootCause   string     `db:"root_cause"`
	Workaround  string     `db:"workaround"`
	Fix         string     `db:"fix"`
	CreatedAt   time.Time  `db:"created_at"`
	UpdatedAt   time.Time  `db:"updated_at"`
	ResolvedAt  *time.Time `db:"resolved_at"`
	// IncidentCount is the number of linked incidents, when a query
	// counts them.
	IncidentCount int `db:"incident_count"`
}

// Exclusion is a pair of fingerprints that "#not-problem" said are not
// the same issue.
type Exclusion struct {
	Fingerprint string `db:"fingerprint"`
	Other       string `db:"other"`
}

// Candidate is an earlier incident that shares a fingerprint word.
type Candidate struct {
	ID          int64     `db:"id"`
	Key         string    `db:"key"`
	Fingerprint string    `db:"fingerprint"`
	ProblemID   *int64    `db:"problem_id"`
	Requester   string    `db:"requester"`
	CreatedAt   time.Time `db:"created_at"`
}

// Message is one stored email, incoming or outgoing.
type Message struct {
	ID           int64      `db:"id"`
	MessageID    string     `db:"message_id"`
	ContentHash  string     `db:"content_hash"`
	IncidentID   *int64     `db:"incident_id"`
	ProblemID    *int64     `db:"problem_id"`
	Direction    string     `db:"direction"`
	Source       string     `db:"source"`
	FromAddr     string     `db:"from_addr"`
	FromName     string     `db:"from_name"`
	ToAddrs      string     `db:"to_addrs"`
	CcAddrs      string     `db:"cc_addrs"`
	Subject      string     `db:"subject"`
	Kind         string     `db:"kind"`
	KindReason   string     `db:"kind_reason"`
	Outcome      string     `db:"outcome"`
	ThreadReason string     `db:"thread_reason"`
	InReplyTo    string     `db:"in_reply_to"`
	Refs         string     `db:"refs"`
	ThreadIndex  string     `db:"thread_index"`
	Conversation string     `db:"conversation"` // Outlook conversation id, from ThreadIndex
	TextBody     string     `db:"text_body"`
	NewText      string     `db:"new_text"`
	Attachments  string     `db:"attachments"` // JSON array
	Defects      string     `db:"defects"`     // JSON array
	Size         int64      `db:"size"`
	DateHeader   *time.Time `db:"date_header"`
	ReceivedAt   time.Time  `db:"received_at"`
	// Authenticated: the sender was vouched for by trusted
	// Authentication-Results or a DKIM signature verified here.
	Authenticated bool `db:"authenticated"`
}

// Event is one line of an incident's audit trail.
type Event struct {
	ID         int64     `db:"id"`
	IncidentID *int64    `db:"incident_id"`
	ProblemID  *int64    `db:"problem_id"`
	MessagePK  *int64    `db:"message_pk"`
	Kind       string    `db:"kind"`
	Actor      string    `db:"actor"`
	Detail     string    `db:"detail"`
	CreatedAt  time.Time `db:"created_at"`
	DedupeKey  *string   `db:"dedupe_key"`
}

// Outbox statuses.
const (
	OutboxQueued  = "queued"
	OutboxSending = "sending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
	// OutboxBounced: accepted by the relay, then reported undeliverable.
	OutboxBounced = "bounced"
)

// Outbox is one email to send. Its Message-ID is fixed when it is queued,
// so a retry after an ambiguous failure sends the same message again, not
// a new one.
type Outbox struct {
	ID            int64      `db:"id"`
	IncidentID    *int64     `db:"incident_id"`
	ProblemID     *int64     `db:"problem_id"`
	Kind          string     `db:"kind"`
	MessageID     string     `db:"message_id"`
	DedupeKey     *string    `db:"dedupe_key"`
	FromAddr      string     `db:"from_addr"`
	ToAddrs       string     `db:"to_addrs"`
	CcAddrs       string     `db:"cc_addrs"`
	ReplyTo       string     `db:"reply_to"`
	Subject       string     `db:"subject"`
	TextBody      string     `db:"text_body"`
	HTMLBody      string     `db:"html_body"`
	InReplyTo     string     `db:"in_reply_to"`
	Refs          string     `db:"refs"`
	AutoSubmitted string     `db:"auto_submitted"`
	RcptKey       string     `db:"rcpt_key"`
	Status        string     `db:"status"`
	Attempts      int        `db:"attempts"`
	NextAttemptAt time.Time  `db:"next_attempt_at"`
	ClaimedUntil  *time.Time `db:"claimed_until"`
	LastError     string     `db:"last_error"`
	CreatedAt     time.Time  `db:"created_at"`
	SentAt        *time.Time `db:"sent_at"`
	// The process holding the claim (see Claimer); empty when unclaimed.
	ClaimedHost     string `db:"claimed_host"`
	ClaimedPID      int    `db:"claimed_pid"`
	ClaimedInstance string `db:"claimed_instance"`
	// Attachments forwarded with the mail, by reference to the message
	// they came with: a JSON array of OutboxAttachment.
	Attachments string `db:"attachments"`
	// Files counts the mail's generated files (outbox_files: a
	// summary's chart and register).
	Files int `db:"files"`
}

// Quarantined is a message that could not be processed, kept raw.
type Quarantined struct {
	ID          int64      `db:"id"`
	Source      string     `db:"source"`
	ContentHash string     `db:"content_hash"`
	Reason      string     `db:"reason"`
	Raw         []byte     `db:"raw"`
	Size        int64      `db:"size"`
	Status      string     `db:"status"`
	CreatedAt   time.Time  `db:"created_at"`
	ResolvedAt  *time.Time `db:"resolved_at"`
	MessagePK   *int64     `db:"message_pk"`
}

// ClockEvent is one stored event of an incident's SLA clocks (see
// workflow/sla: Event). Policy and Promise are [[sla]] names.
type ClockEvent struct {
	ID         int64     `db:"id"`
	IncidentID int64     `db:"incident_id"`
	At         time.Time `db:"at"`
	Kind       string    `db:"kind"`
	Party      string    `db:"party"`
	Policy     string    `db:"policy"`
	Promise    string    `db:"promise"`
	Priority   string    `db:"priority"`
	Metric     string    `db:"metric"`
	Note       string    `db:"note"`
}
