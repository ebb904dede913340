package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow/majorreport"
)

// The JSON shapes below are a public interface (DESIGN.md): field names
// are snake_case and stable; times are RFC 3339 in UTC.

// IncidentView is an incident as listed and shown.
type IncidentView struct {
	Key             string     `json:"key"`
	Subject         string     `json:"subject"`
	Status          string     `json:"status"`
	Priority        string     `json:"priority"`
	Requester       string     `json:"requester"`
	Assignee        string     `json:"assignee"`
	Category        string     `json:"category"`
	Problem         *string    `json:"problem"`
	CreatedAt       time.Time  `json:"created_at"`
	FirstResponseAt *time.Time `json:"first_response_at"`
	ResolvedAt      *time.Time `json:"resolved_at"`
	ResponseDue     *time.Time `json:"response_due"`
	ResolutionDue   *time.Time `json:"resolution_due"`
	EscalationLevel int        `json:"escalation_level"`
	// The SLA clock: the policy promised, when each target was
	// breached, whether it waits on the requester, who acknowledged the
	// breach.
	SLA                  string     `json:"sla"`
	ResponseBreachedAt   *time.Time `json:"response_breached_at"`
	ResolutionBreachedAt *time.Time `json:"resolution_breached_at"`
	Paused               bool       `json:"paused"`
	AcknowledgedBy       string     `json:"acknowledged_by"`
	// Major is true for a major incident; ReportStatus is its report's:
	// none, requested, partial, received, accepted, or overdue (requested
	// or partial past its due time, as of the clock AtTime was given).
	Major        bool       `json:"major"`
	ReportStatus string     `json:"report_status"`
	ReportDue    *time.Time `json:"report_due"`
	// Report is the report in full (show only; nil without one).
	Report *ReportView `json:"report,omitempty"`
	// Clock is the clocks' story in words (show only).
	Clock []string `json:"clock,omitempty"`
	// Messages is a count in lists and an array in show.
	Messages any         `json:"messages"`
	Events   []EventView `json:"events,omitempty"`
}

// ReportView is a major incident's report as show gives it.
type ReportView struct {
	Status      string                `json:"status"`
	RequestedAt *time.Time            `json:"requested_at"`
	Due         *time.Time            `json:"due"`
	From        string                `json:"from"`
	ReceivedAt  *time.Time            `json:"received_at"`
	Sections    []majorreport.Section `json:"sections"`
	Missing     []string              `json:"missing"`
	Actions     []majorreport.Action  `json:"actions"`
	// Notices are the report's reminders and escalations, and what was
	// received, from the audit trail.
	Notices []EventView `json:"notices"`
}

// AtTime judges the report status at now: a requested or partial report
// past its due time is "overdue".
func (v *IncidentView) AtTime(now time.Time) {
	if (v.ReportStatus == store.ReportRequested || v.ReportStatus == store.ReportPartial) && v.ReportDue != nil && !now.Before(*v.ReportDue) {
		v.ReportStatus = store.ReportOverdue
	}
	if v.Report != nil {
		v.Report.Status = v.ReportStatus
	}
}

// MessageView is one message of an incident, incoming or outgoing.
type MessageView struct {
	MessageID    string    `json:"message_id"`
	Direction    string    `json:"direction"`
	From         string    `json:"from"`
	To           string    `json:"to,omitempty"`
	Subject      string    `json:"subject"`
	ReceivedAt   time.Time `json:"received_at"`
	Kind         string    `json:"kind"`
	ThreadReason string    `json:"thread_reason"`
	Text         string    `json:"text"`
	NewText      string    `json:"new_text"`
	Status       string    `json:"status,omitempty"` // outgoing: queued, sending, sent, failed
	// Attachments of an incoming message; of an outgoing one, those it
	// forwards. Index numbers the incident's attachments (1, 2, …, in
	// the order of its messages) for "helpdeskd attachment KEY INDEX".
	Attachments []AttachmentView `json:"attachments"`
}

// AttachmentView is one attachment as show lists it.
type AttachmentView struct {
	Index       int    `json:"index"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"` // bytes, decoded
}

// EventView is one line of the audit trail.
type EventView struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Actor  string    `json:"actor"`
	Detail string    `json:"detail"`
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// NewIncidentView converts a stored incident; Messages holds the count.
func NewIncidentView(inc *store.Incident) IncidentView {
	return IncidentView{
		Key: inc.Key, Subject: inc.Subject, Status: string(inc.Status), Priority: string(inc.Priority),
		Requester: inc.Requester, Assignee: inc.Assignee, Category: inc.Category, Problem: inc.ProblemKey,
		CreatedAt: inc.CreatedAt.UTC(), FirstResponseAt: utcPtr(inc.FirstResponseAt),
		ResolvedAt: utcPtr(inc.ResolvedAt), ResponseDue: utcPtr(inc.ResponseDue),
		ResolutionDue: utcPtr(inc.ResolutionDue), EscalationLevel: inc.EscalationLevel,
		SLA: inc.SLA, ResponseBreachedAt: utcPtr(inc.ResponseBreachedAt), ResolutionBreachedAt: utcPtr(inc.ResolutionBreachedAt),
		Paused: inc.Paused, AcknowledgedBy: inc.AcknowledgedBy,
		Major: inc.IsMajor(), ReportStatus: inc.ReportState(time.Time{}), ReportDue: utcPtr(inc.ReportDueAt),
		Messages: inc.MessageCount,
	}
}

// ShowIncident loads an incident with its messages (incoming and
// outgoing, in time order) and events.
func ShowIncident(ctx context.Context, r store.Reader, key string) (*IncidentView, error) {
	inc, err := r.IncidentByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	v := NewIncidentView(inc)
	msgs, err := r.IncidentMessages(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	out, err := r.IncidentOutbox(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	events, err := r.IncidentEvents(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	v.Messages, v.Events = messageViews(msgs, out), eventViews(events)
	if inc.IsMajor() || inc.ReportStatus != "" {
		rep := reportOf(inc)
		rv := &ReportView{Status: v.ReportStatus, RequestedAt: utcPtr(inc.ReportRequestedAt), Due: utcPtr(inc.ReportDueAt),
			From: inc.ReportFrom, ReceivedAt: utcPtr(inc.ReportReceivedAt), Sections: nonNil(rep.Sections), Missing: nonNil(rep.Missing),
			Actions: nonNil(rep.Actions), Notices: []EventView{}}
		for _, ev := range v.Events {
			switch EventKind(ev.Kind) {
			case EvMajorDeclared, EvMajorOff, EvReportRequested, EvReportPartial, EvReportReceived, EvReportUnread,
				EvReportAccepted, EvReportRejected, EvReportReminder, EvReportOverdue:
				rv.Notices = append(rv.Notices, ev)
			}
		}
		v.Report = rv
	}
	return &v, nil
}

// attachmentKey is an attachment of a stored message.
type attachmentKey struct {
	pk    int64
	index int
}

// incomingAttachments numbers the attachments of an incident's incoming
// messages (in the order IncidentMessages gives them: received_at, id)
// from 1.
func incomingAttachments(msgs []store.Message) (map[int64][]AttachmentView, map[attachmentKey]int) {
	byMsg, index := map[int64][]AttachmentView{}, map[attachmentKey]int{}
	n := 0
	for _, m := range msgs {
		if m.Direction != "in" || m.Attachments == "" {
			continue
		}
		var atts []mailparse.Attachment
		if json.Unmarshal([]byte(m.Attachments), &atts) != nil {
			continue
		}
		for i, a := range atts {
			n++
			byMsg[m.ID] = append(byMsg[m.ID], AttachmentView{Index: n, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size})
			index[attachmentKey{m.ID, i}] = n
		}
	}
	return byMsg, index
}

// messageViews merges incoming and outgoing mail in time order. Names
// in headers are shown decoded (RFC 2047).
func messageViews(msgs []store.Message, out []store.Outbox) []MessageView {
	list := make([]MessageView, 0, len(msgs)+len(out))
	atts, index := incomingAttachments(msgs)
	for _, m := range msgs {
		from := m.FromAddr
		if m.FromName != "" {
			from = m.FromName + " <" + m.FromAddr + ">"
		}
		list = append(list, MessageView{
			MessageID: m.MessageID, Direction: m.Direction, From: from, Subject: m.Subject,
			ReceivedAt: m.ReceivedAt.UTC(), Kind: m.Kind, ThreadReason: m.ThreadReason,
			Text: m.TextBody, NewText: m.NewText, Attachments: nonNil(atts[m.ID]),
		})
	}
	for _, o := range out {
		at := o.CreatedAt
		if o.SentAt != nil {
			at = *o.SentAt
		}
		kind := "human"
		if o.AutoSubmitted != "" {
			kind = "auto_reply"
			if o.AutoSubmitted == "auto-generated" {
				kind = "auto_generated"
			}
		}
		fw := []AttachmentView{}
		refs, _ := o.OutboxAttachments()
		for _, a := range refs {
			fw = append(fw, AttachmentView{Index: index[attachmentKey{a.MessagePK, a.Index}], Filename: a.Filename,
				ContentType: a.ContentType, Size: a.Size})
		}
		list = append(list, MessageView{
			MessageID: o.MessageID, Direction: "out", From: mailparse.DecodeWords(o.FromAddr), To: mailparse.DecodeWords(o.ToAddrs),
			Subject: o.Subject, ReceivedAt: at.UTC(), Kind: kind, ThreadReason: o.Kind, Text: o.TextBody, NewText: o.TextBody,
			Status: o.Status, Attachments: fw,
		})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].ReceivedAt.Before(list[j].ReceivedAt) })
	return list
}

func eventViews(events []store.Event) []EventView {
	var out []EventView
	for _, e := range events {
		out = append(out, EventView{At: e.CreatedAt.UTC(), Kind: e.Kind, Actor: mailparse.DecodeWords(e.Actor), Detail: mailparse.DecodeWords(e.Detail)})
	}
	return out
}

// ProblemView is a problem as listed and shown.
type ProblemView struct {
	Key        string     `json:"key"`
	Title      string     `json:"title"`
	Status     string     `json:"status"`
	RootCause  string     `json:"root_cause"`
	Workaround string     `json:"workaround"`
	Fix        string     `json:"fix"`
	CreatedAt  time.Time  `json:"created_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
	// Incidents is a count in lists and an array of incidents in show.
	Incidents any `json:"incidents"`
	// The problem's own thread, in show: the mail about it and the
	// replies, and its audit trail.
	Messages []MessageView `json:"messages,omitempty"`
	Events   []EventView   `json:"events,omitempty"`
}

// NewProblemView converts a stored problem; Incidents holds the count.
func NewProblemView(p *store.Problem) ProblemView {
	return ProblemView{Key: p.Key, Title: p.Title, Status: p.Status, RootCause: p.RootCause, Workaround: p.Workaround,
		Fix: p.Fix, CreatedAt: p.CreatedAt.UTC(), ResolvedAt: utcPtr(p.ResolvedAt), Incidents: p.IncidentCount}
}

// ShowProblem loads a problem with its incidents.
func ShowProblem(ctx context.Context, r store.Reader, key string) (*ProblemView, error) {
	p, err := r.ProblemByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	v := NewProblemView(p)
	incs, err := r.ProblemIncidents(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	list := make([]IncidentView, len(incs))
	for i := range incs {
		list[i] = NewIncidentView(&incs[i])
	}
	v.Incidents = list
	msgs, err := r.ProblemMessages(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	out, err := r.ProblemOutbox(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	events, err := r.ProblemEvents(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	v.Messages, v.Events = messageViews(msgs, out), eventViews(events)
	return &v, nil
}

// ExtractAttachment returns attachment index (as show numbers them,
// from 1) of incident key, with its decoded bytes, read from the stored
// raw message with the parser limits opts (the intake's: ParseOptions).
// Errors: store.ErrNotFound when there is no incident key; an error
// saying how many attachments it has when index is out of range.
func ExtractAttachment(ctx context.Context, r store.Reader, opts mailparse.Options, key string, index int) (AttachmentView, []byte, error) {
	inc, err := r.IncidentByKey(ctx, key)
	if err != nil {
		return AttachmentView{}, nil, err
	}
	msgs, err := r.IncidentMessages(ctx, inc.ID)
	if err != nil {
		return AttachmentView{}, nil, err
	}
	atts, numbers := incomingAttachments(msgs)
	for k, n := range numbers {
		if n != index {
			continue
		}
		raw, err := r.MessageRaw(ctx, k.pk)
		if err != nil {
			return AttachmentView{}, nil, fmt.Errorf("%s attachment %d: raw message: %w", key, index, err)
		}
		part, err := mailparse.AttachmentData(raw, opts, k.index)
		if err != nil {
			return AttachmentView{}, nil, fmt.Errorf("%s attachment %d: %w", key, index, err)
		}
		var v AttachmentView
		for _, a := range atts[k.pk] {
			if a.Index == index {
				v = a
			}
		}
		if part.Filename != v.Filename || int64(len(part.Data)) != v.Size {
			return AttachmentView{}, nil, fmt.Errorf("%s attachment %d: the stored message has %q (%d bytes) there, listed as %q (%d bytes)",
				key, index, part.Filename, len(part.Data), v.Filename, v.Size)
		}
		return v, part.Data, nil
	}
	if len(numbers) == 0 {
		return AttachmentView{}, nil, &NoAttachmentError{Key: key, Index: index}
	}
	return AttachmentView{}, nil, &NoAttachmentError{Key: key, Index: index, Count: len(numbers)}
}

// NoAttachmentError: the incident has no attachment of that index.
type NoAttachmentError struct {
	Key          string
	Index, Count int
}

func (e *NoAttachmentError) Error() string {
	if e.Count == 0 {
		return fmt.Sprintf("%s has no attachments", e.Key)
	}
	return fmt.Sprintf("%s has no attachment %d: its attachments are numbered 1 to %d (see show %s)", e.Key, e.Index, e.Count, e.Key)
}
