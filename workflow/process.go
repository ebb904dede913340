package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
)

// threadMatch is the incident a message belongs to and why.
type threadMatch struct {
	inc    *store.Incident
	reason string
	byTag  bool
}

// findThread applies threading rules 1 and 2 of the design, first match
// wins: our tag in the subject or our own Message-ID format in
// In-Reply-To/References; then any stored Message-ID (incoming or
// outgoing) in In-Reply-To/References.
func (p *processing) findThread(ctx context.Context) (*threadMatch, error) {
	m, keys := p.msg, p.e.keys
	for _, key := range keys.TagsIn(m.Subject) {
		inc, err := p.tx.IncidentByKey(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &threadMatch{inc: inc, reason: "subject tag " + Tag(key), byTag: true}, nil
	}
	for _, id := range ThreadCandidates(m.InReplyTo, m.References) {
		key := keys.KeyOfMessageID(id)
		if key == "" {
			continue
		}
		inc, err := p.tx.IncidentByKey(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &threadMatch{inc: inc, reason: "reply to our message <" + id + ">"}, nil
	}
	if p.lookup == nil || p.lookup.ThreadIncident == 0 {
		return nil, nil
	}
	inc, err := p.tx.IncidentByID(ctx, p.lookup.ThreadIncident)
	if err != nil {
		return nil, err
	}
	return &threadMatch{inc: inc, reason: "references stored message <" + p.lookup.ThreadMessageID + ">"}, nil
}

// event records a decision on the incident's audit trail. It is written
// with the batch, once the message row exists to point to.
func (p *processing) event(_ context.Context, incID *int64, kind, actor, detail string) error {
	p.events = append(p.events, &store.Event{
		IncidentID: incID, Kind: kind, Actor: cleanText(actor), Detail: cleanText(detail), CreatedAt: p.now,
	})
	return nil
}

// decide threads the message or opens an incident, and queues what must
// be sent. It fills res and p.incidentID/p.threadReason.
func (p *processing) decide(ctx context.Context, res *Result) error {
	m, cfg := p.msg, p.e.Cfg
	from := m.From.Addr
	if own, why := IsOwnMail(m, cfg.Helpdesk.Address); own {
		res.Outcome, res.Reason = OutcomeIgnored, why
		p.threadReason = why
		return nil
	}
	match, err := p.findThread(ctx)
	if err != nil {
		return err
	}
	if match != nil && match.inc.Status == store.StatusClosed && !m.Kind.Automatic() {
		// A closed incident stays closed; a new message about it is a new
		// incident that points back to the old one.
		old := match.inc
		if err := p.newIncident(ctx, res, fmt.Sprintf("follow-up to closed %s (%s)", old.Key, match.reason)); err != nil {
			return err
		}
		return p.event(ctx, &old.ID, "follow_up", from, "new message opened "+res.Incident+" because this incident is closed")
	}
	switch m.Kind {
	case mailparse.KindAutoReply, mailparse.KindBounce:
		if match == nil {
			res.Outcome = OutcomeIgnored
			res.Reason = fmt.Sprintf("%s (%s) that refers to no incident", m.Kind, m.KindReason)
			p.threadReason = "no thread found"
			return nil
		}
		// Joins the incident without reopening it or touching its clocks.
		inc := match.inc
		p.incidentID, p.threadReason = &inc.ID, match.reason
		res.Outcome, res.Incident = OutcomeThreaded, inc.Key
		res.Reason = fmt.Sprintf("%s joined by %s; status unchanged", m.Kind, match.reason)
		if err := p.tx.TouchIncident(ctx, inc.ID, p.now); err != nil {
			return err
		}
		return p.event(ctx, &inc.ID, string(m.Kind), from, fmt.Sprintf("%s (%s) received: %s", m.Kind, m.KindReason, m.Subject))
	}
	if match == nil {
		return p.newIncident(ctx, res, "no thread found: new incident")
	}
	return p.thread(ctx, res, match)
}

// thread adds a message to an existing incident.
func (p *processing) thread(ctx context.Context, res *Result, match *threadMatch) error {
	m, inc := p.msg, match.inc
	from := m.From.Addr
	p.incidentID, p.threadReason = &inc.ID, match.reason
	res.Outcome, res.Incident, res.Reason = OutcomeThreaded, inc.Key, match.reason
	if err := p.tx.TouchIncident(ctx, inc.ID, p.now); err != nil {
		return err
	}
	if err := p.event(ctx, &inc.ID, "threaded", from, fmt.Sprintf("message from %s joined: %s", m.From, match.reason)); err != nil {
		return err
	}
	isRequester := strings.EqualFold(from, inc.Requester)
	if match.byTag && !isRequester {
		// Rule 5: anyone can type a tag. Record it, but say that this
		// sender was not on the thread before.
		on, err := p.tx.IsParticipant(ctx, inc.ID, from)
		if err != nil {
			return err
		}
		if !on {
			res.Reason += "; flagged: sender is not the requester and was not on the thread"
			if err := p.event(ctx, &inc.ID, "flagged", from, from+" used the tag but is neither the requester nor on the thread"); err != nil {
				return err
			}
		}
	}
	if isRequester && !m.Kind.Automatic() {
		switch inc.Status {
		case store.StatusResolved:
			if err := p.tx.SetIncidentStatus(ctx, inc, store.StatusOpen, p.now); err != nil {
				return err
			}
			res.Reason += "; reopened: the requester replied to a resolved incident"
			return p.event(ctx, &inc.ID, "reopened", from, "the requester replied after resolution")
		case store.StatusWaiting:
			if err := p.tx.SetIncidentStatus(ctx, inc, store.StatusOpen, p.now); err != nil {
				return err
			}
			return p.event(ctx, &inc.ID, "status", from, "waiting → open: the requester replied")
		}
	}
	return nil
}

// newIncident opens an incident for the message and acknowledges it when
// the loop rules allow.
func (p *processing) newIncident(ctx context.Context, res *Result, why string) error {
	m, cfg := p.msg, p.e.Cfg
	subject := cleanText(m.NormSubject)
	if subject == "" {
		subject = "(no subject)"
	}
	inc := &store.Incident{
		Subject:       subject,
		NormSubject:   strings.ToLower(subject),
		Status:        store.StatusNew,
		Priority:      cfg.Helpdesk.DefaultPriority,
		Requester:     cleanText(m.From.Addr),
		RequesterName: cleanText(m.From.Name),
		CreatedAt:     p.now,
		UpdatedAt:     p.now,
	}
	if err := p.tx.CreateIncident(ctx, inc, p.e.keys.Prefix+"-"); err != nil {
		return err
	}
	p.incidentID, p.threadReason = &inc.ID, why
	res.Outcome, res.Incident, res.Reason = OutcomeNewIncident, inc.Key, why
	if err := p.event(ctx, &inc.ID, "created", m.From.Addr, fmt.Sprintf("%s opened by %s (%s): %s", inc.Key, m.From, m.Kind, why)); err != nil {
		return err
	}
	// Counted by the lookup, before this message queued anything.
	d := DecideAck(m, cfg.Helpdesk.Address, p.lookup.AutoMailSent, cfg.Helpdesk.AutoReplyLimit)
	if !d.Send {
		res.Reason += "; not acknowledged: " + d.Reason
		return p.event(ctx, &inc.ID, "not_acknowledged", "helpdeskd", d.Reason)
	}
	return p.queueAck(ctx, inc, res)
}

// AckData is what the acknowledgement templates see.
type AckData struct {
	HelpdeskName  string
	Key           string
	Subject       string
	RequesterName string
	Priority      string
	ResponseDue   string
	ResolutionDue string
}

func (p *processing) queueAck(ctx context.Context, inc *store.Incident, res *Result) error {
	m, cfg := p.msg, p.e.Cfg
	r, err := p.e.Templates.Render("ack", AckData{
		HelpdeskName:  cfg.Helpdesk.Name,
		Key:           inc.Key,
		Subject:       inc.Subject,
		RequesterName: m.From.Name,
		Priority:      inc.Priority,
	})
	if err != nil {
		return err
	}
	refs := append(append([]string{}, m.References...), m.MessageID)
	if len(refs) > 20 {
		refs = append(refs[:1], refs[len(refs)-19:]...)
	}
	dedupe := "ack:" + inc.Key
	o := &store.Outbox{
		IncidentID:    &inc.ID,
		Kind:          "ack",
		MessageID:     p.e.keys.NewMessageID(inc.Key),
		DedupeKey:     &dedupe,
		FromAddr:      cfg.SMTP.From,
		ToAddrs:       m.From.String(),
		ReplyTo:       cfg.Helpdesk.Address,
		Subject:       r.Subject,
		TextBody:      r.Text,
		HTMLBody:      r.HTML,
		InReplyTo:     m.MessageID,
		Refs:          strings.Join(refs, " "),
		AutoSubmitted: "auto-replied",
		RcptKey:       m.From.Addr,
		NextAttemptAt: p.now,
		CreatedAt:     p.now,
	}
	if err := p.tx.Enqueue(ctx, o); errors.Is(err, store.ErrDuplicate) {
		return nil
	} else if err != nil {
		return err
	}
	p.queued = true
	res.Reason += "; acknowledged"
	return p.event(ctx, &inc.ID, "acknowledged", "helpdeskd", fmt.Sprintf("acknowledgement <%s> queued to %s", o.MessageID, m.From.Addr))
}
