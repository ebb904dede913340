package workflow

import (
	"context"
	"sort"
	"time"

	"github.com/helpdeskd/helpdeskd/store"
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
	// Clock is the clocks' story in words (show only).
	Clock []string `json:"clock,omitempty"`
	// Messages is a count in lists and an array in show.
	Messages any         `json:"messages"`
	Events   []EventView `json:"events,omitempty"`
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
		Key: inc.Key, Subject: inc.Subject, Status: inc.Status, Priority: inc.Priority,
		Requester: inc.Requester, Assignee: inc.Assignee, Category: inc.Category, Problem: inc.ProblemKey,
		CreatedAt: inc.CreatedAt.UTC(), FirstResponseAt: utcPtr(inc.FirstResponseAt),
		ResolvedAt: utcPtr(inc.ResolvedAt), ResponseDue: utcPtr(inc.ResponseDue),
		ResolutionDue: utcPtr(inc.ResolutionDue), EscalationLevel: inc.EscalationLevel,
		SLA: inc.SLA, ResponseBreachedAt: utcPtr(inc.ResponseBreachedAt), ResolutionBreachedAt: utcPtr(inc.ResolutionBreachedAt),
		Paused: inc.Paused, AcknowledgedBy: inc.AcknowledgedBy,
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
	return &v, nil
}

// messageViews merges incoming and outgoing mail in time order.
func messageViews(msgs []store.Message, out []store.Outbox) []MessageView {
	list := make([]MessageView, 0, len(msgs)+len(out))
	for _, m := range msgs {
		from := m.FromAddr
		if m.FromName != "" {
			from = m.FromName + " <" + m.FromAddr + ">"
		}
		list = append(list, MessageView{
			MessageID: m.MessageID, Direction: m.Direction, From: from, Subject: m.Subject,
			ReceivedAt: m.ReceivedAt.UTC(), Kind: m.Kind, ThreadReason: m.ThreadReason,
			Text: m.TextBody, NewText: m.NewText,
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
		list = append(list, MessageView{
			MessageID: o.MessageID, Direction: "out", From: o.FromAddr, To: o.ToAddrs, Subject: o.Subject,
			ReceivedAt: at.UTC(), Kind: kind, ThreadReason: o.Kind, Text: o.TextBody, NewText: o.TextBody,
			Status: o.Status,
		})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].ReceivedAt.Before(list[j].ReceivedAt) })
	return list
}

func eventViews(events []store.Event) []EventView {
	var out []EventView
	for _, e := range events {
		out = append(out, EventView{At: e.CreatedAt.UTC(), Kind: e.Kind, Actor: e.Actor, Detail: e.Detail})
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
