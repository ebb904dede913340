package workflow

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
)

// threadMatch is the incident, or the problem, a message belongs to and
// why.
type threadMatch struct {
	inc      *store.Incident
	pr       *store.Problem
	reason   string
	byTag    bool
	byTicket bool
	opened   bool // the message opened inc
}

// subjectTag is a tag of ours in a subject: an incident's or a problem's.
type subjectTag struct {
	key     string
	problem bool
	at      int
}

// subjectTags lists the incident and problem tags of a subject, first
// first.
func (p *processing) subjectTags() []subjectTag {
	var out []subjectTag
	keys, at := p.e.keys.tagsAt(p.msg.Subject)
	for i := range keys {
		out = append(out, subjectTag{key: keys[i], at: at[i]})
	}
	keys, at = p.e.problemKeys.tagsAt(p.msg.Subject)
	for i := range keys {
		out = append(out, subjectTag{key: keys[i], problem: true, at: at[i]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

// provider is the provider the sender belongs to (by domain or intake
// address), or nil.
func (p *processing) provider() *config.Provider {
	name := staffName(p.e.Cfg, p.msg.From.Addr)
	if name == "" {
		return nil
	}
	if pt := directoryOf(p.e.Cfg).Party(name); pt != nil {
		return pt.Provider
	}
	return nil
}

// findThread applies threading rules 1 to 4 of the design, first match
// wins: our tag in the subject or our own Message-ID format in
// In-Reply-To/References; then any stored Message-ID (incoming or
// outgoing) in In-Reply-To/References; then a provider's own ticket
// number; then Outlook's conversation id.
func (p *processing) findThread(ctx context.Context) (*threadMatch, error) {
	m, keys := p.msg, p.e.keys
	for _, t := range p.subjectTags() {
		match, err := p.ours(ctx, t.key, t.problem)
		if err != nil || match != nil {
			if match != nil {
				match.reason, match.byTag = "subject tag "+Tag(t.key), true
			}
			return match, err
		}
	}
	for _, id := range candidates(m) {
		key, problem := keys.KeyOfMessageID(id), false
		if key == "" {
			key, problem = p.e.problemKeys.KeyOfMessageID(id), true
		}
		if key == "" {
			continue
		}
		match, err := p.ours(ctx, key, problem)
		if err != nil {
			return nil, err
		}
		// An incident Message-ID of ours counts only when we sent it:
		// its random part is not guessable. (A problem's thread root
		// is; what an outsider may do with it is limited instead, see
		// threadProblem.)
		if match != nil && match.inc != nil && !p.u.knownMessageID(id, match.inc) {
			continue
		}
		if match != nil {
			match.reason = "reply to our message <" + id + ">"
			return match, nil
		}
	}
	inc, matched, err := p.u.threadIncident(ctx, candidates(m))
	if err != nil {
		return nil, err
	}
	if inc != nil {
		return &threadMatch{inc: inc, reason: "references stored message <" + matched + ">"}, nil
	}
	// Rule 2, for ancestors never received: mail that refers to a
	// Message-ID that earlier mail of an incident referred to as well
	// (the root went only to people, not to support@) joins it.
	if inc, ref, err := p.u.refIncident(ctx, candidates(m)); err != nil || inc != nil {
		if inc == nil {
			return nil, err
		}
		return &threadMatch{inc: inc, reason: "shares the earlier message <" + ref + "> with " + inc.Key}, nil
	}
	// Rule 3: a provider's own ticket number, learned before.
	if prov := p.provider(); prov != nil && prov.TicketRe != nil {
		for _, t := range prov.TicketRe.FindAllString(m.Subject, 5) {
			inc, err := p.u.ticketIncident(ctx, prov.Name, t)
			if err != nil {
				return nil, err
			}
			if inc != nil {
				return &threadMatch{inc: inc, reason: fmt.Sprintf("%s's ticket %s", prov.Name, t), byTicket: true}, nil
			}
		}
	}
	// Rule 4: Outlook's conversation id (Thread-Index), for replies whose
	// client dropped In-Reply-To and References.
	conv := ConversationID(m.ThreadIndex)
	if inc, err := p.u.conversationIncident(ctx, conv); err != nil || inc != nil {
		if inc == nil {
			return nil, err
		}
		return &threadMatch{inc: inc, reason: "Outlook conversation " + conv[:12] + "… (Thread-Index)"}, nil
	}
	return nil, nil
}

// ours finds the incident or problem of a key; nil when there is none.
func (p *processing) ours(ctx context.Context, key string, problem bool) (*threadMatch, error) {
	if problem {
		pr, err := p.u.problemByKey(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &threadMatch{pr: pr}, nil
	}
	inc, err := p.u.incidentByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &threadMatch{inc: inc}, nil
}

// problemEvent records a decision on a problem's audit trail.
func (p *processing) problemEvent(pr *store.Problem, kind EventKind, actor, detail string) {
	p.events = append(p.events, pendingEvent{pr: pr, ev: &store.Event{
		Kind: string(kind), Actor: cleanText(actor), Detail: cleanText(detail), CreatedAt: p.now,
	}})
}

// event records a decision on the incident's audit trail. It is written
// with the batch, once the incident and the message rows exist to point
// to.
func (p *processing) event(inc *store.Incident, kind EventKind, actor, detail string) error {
	p.events = append(p.events, pendingEvent{inc: inc, ev: &store.Event{
		Kind: string(kind), Actor: cleanText(actor), Detail: cleanText(detail), CreatedAt: p.now,
	}})
	return nil
}

// decide threads the message or opens an incident, and queues what must
// be sent. It fills res and p.incident/p.threadReason.
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
	if match != nil && match.pr != nil {
		return p.threadProblem(ctx, res, match)
	}
	if match != nil && match.inc.Status == store.StatusClosed && !m.Kind.Automatic() {
		// A closed incident stays closed; a new message about it is a new
		// incident that points back to the old one.
		old := match.inc
		p.followsClosed = old
		if err := p.newIncident(ctx, res, fmt.Sprintf("follow-up to closed %s (%s)", old.Key, match.reason)); err != nil {
			return err
		}
		return p.event(old, "follow_up", from, "new message opened "+res.Incident+" because this incident is closed")
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
		p.incident, p.threadReason = inc, match.reason
		res.Outcome, res.Incident = OutcomeThreaded, inc.Key
		res.Reason = fmt.Sprintf("%s joined by %s; status unchanged", m.Kind, match.reason)
		p.u.touch(inc)
		if err := p.learnTickets(ctx, inc, match); err != nil {
			return err
		}
		if err := p.flagDenied(inc, res); err != nil {
			return err
		}
		if b := m.Bounce; b != nil && m.Kind == mailparse.KindBounce {
			if id := p.bouncedMail(match); id != "" && b.Delayed {
				// Still being tried by the remote side: on record, the
				// outbox row stays as it is.
				res.Reason += "; our mail <" + id + "> delayed"
				return p.event(inc, EvDeliveryDelayed, from, fmt.Sprintf("mail <%s> delayed, still being tried: %s", id, bounceReason(b)))
			}
			if id := p.bouncedMail(match); id != "" {
				p.u.bounced(id, bounceReason(b))
				res.Reason += "; our mail <" + id + "> marked bounced"
				return p.event(inc, "delivery_bounced", from, fmt.Sprintf("mail <%s> bounced: %s", id, bounceReason(b)))
			}
		}
		return p.event(inc, EventKind(m.Kind), from, fmt.Sprintf("%s (%s) received: %s", m.Kind, m.KindReason, m.Subject))
	}
	if match == nil {
		// The same requester writing again about an open incident of
		// theirs (problems.go).
		if f, err := p.followUp(ctx); err != nil || f != nil {
			if err != nil {
				return err
			}
			return p.followUpThread(ctx, res, f)
		}
		return p.newIncident(ctx, res, "no thread found: new incident")
	}
	return p.thread(ctx, res, match)
}

// bouncedMail is the Message-ID of our own mail that a bounce reports,
// when the thread was found through it.
func (p *processing) bouncedMail(match *threadMatch) string {
	b := p.msg.Bounce
	for _, id := range candidates(p.msg) {
		ours := p.e.keys.KeyOfMessageID(id) != "" || p.e.problemKeys.KeyOfMessageID(id) != ""
		if ours && !p.isThreadRoot(id) && (b.OriginalMessageID == "" || id == b.OriginalMessageID) {
			return id
		}
	}
	return ""
}

// isThreadRoot reports whether id is the thread root of a problem
// (<prb-7@domain>), which no mail has as its own Message-ID.
func (p *processing) isThreadRoot(id string) bool {
	k := p.e.problemKeys.KeyOfMessageID(id)
	return k != "" && strings.EqualFold(id, p.e.problemKeys.ThreadRoot(k))
}

// bounceReason says who failed and how, for the audit trail and the
// outbox row.
func bounceReason(b *mailparse.Bounce) string {
	var parts []string
	if len(b.Recipients) > 0 {
		parts = append(parts, "failed recipient "+strings.Join(b.Recipients, ", "))
	}
	if b.Status != "" {
		parts = append(parts, "status "+b.Status)
	}
	if b.Permanent {
		parts = append(parts, "permanent: the address does not work")
	} else {
		parts = append(parts, "temporary or policy failure")
	}
	if b.Diagnostic != "" {
		parts = append(parts, b.Diagnostic)
	}
	return cleanText(strings.Join(parts, "; "))
}

// learnTickets records the provider's ticket numbers of a reply that
// threaded by our tag or headers (rule 3 learns from the first reply that
// carries both), or of a provider's mail that opened an incident; a number
// already known stays with its incident. Only from authenticated mail.
func (p *processing) learnTickets(ctx context.Context, inc *store.Incident, match *threadMatch) error {
	prov := p.provider()
	if prov == nil || prov.TicketRe == nil || match.byTicket {
		return nil
	}
	if !match.opened && inc.Assignee != prov.Name {
		// A provider's numbers belong to its own incidents: learned on
		// another party's incident, they would let its mail thread
		// there without a tag.
		return nil
	}
	tickets := prov.TicketRe.FindAllString(p.msg.Subject, 5)
	if len(tickets) == 0 {
		return nil
	}
	if ok, _ := p.authenticated(); !ok {
		p.deny(fmt.Sprintf("%s's ticket number %s not learned", prov.Name, strings.Join(tickets, ", ")))
		return nil
	}
	for _, t := range tickets {
		known, err := p.u.ticketIncident(ctx, prov.Name, t)
		if err != nil {
			return err
		}
		if known != nil {
			continue
		}
		p.u.learnTicket(prov.Name, t, inc)
		if err := p.event(inc, "ticket_learned", p.msg.From.Addr, fmt.Sprintf("%s is %s's ticket for %s", t, prov.Name, inc.Key)); err != nil {
			return err
		}
	}
	return nil
}

// thread adds a message to an existing incident.
func (p *processing) thread(ctx context.Context, res *Result, match *threadMatch) error {
	m, inc := p.msg, match.inc
	from := m.From.Addr
	p.incident, p.threadReason = inc, match.reason
	res.Outcome, res.Incident, res.Reason = OutcomeThreaded, inc.Key, match.reason
	p.u.touch(inc)
	if err := p.event(inc, "threaded", from, fmt.Sprintf("message from %s joined: %s", m.From, match.reason)); err != nil {
		return err
	}
	if err := p.learnTickets(ctx, inc, match); err != nil {
		return err
	}
	isRequester := samePerson(from, inc.Requester)
	staff := staffName(p.e.Cfg, from)
	if !m.Kind.Automatic() {
		// Recorded with the message: only authenticated senders become
		// participants of the thread.
		p.authenticated()
	}
	// The first human reply of whoever the incident is assigned to
	// stops the response clock, when it really comes from them and says
	// something to the requester: a mail of commands only, or a #note,
	// answers nobody.
	mayRespond := staff != "" && staff == inc.Assignee && !m.Kind.Automatic() && !isRequester
	firstEver := inc.FirstResponseAt == nil
	if mayRespond && !firstEver {
		// Answered before: the reply still meets a response clock that
		// runs, the one a hand-over started for this party's contract or
		// the one a reopen started.
		owed, err := p.responseOwed(ctx, inc)
		if err != nil {
			return err
		}
		mayRespond = owed
	}
	if mayRespond {
		if ok, _ := p.authenticated(); !ok {
			p.deny("not counted as the first response")
			mayRespond = false
		}
	}
	assignee := inc.Assignee // before any #assign below
	relayText, internal, verdict, commanded := m.NewText, false, false, false
	if !m.Kind.Automatic() {
		if cmds, rest := parseCommands(m.NewText); len(cmds) > 0 && (staff != "" || inChain(p.e.Cfg, from) || anyKnownCommand(cmds)) {
			commanded = staff != "" || inChain(p.e.Cfg, from)
			for _, c := range cmds {
				verdict = verdict || c.name == "accept" || c.name == "reject"
			}
			var err error
			if internal, err = p.runCommands(ctx, thread{inc: inc}, cmds, staff); err != nil {
				return err
			}
			relayText = rest
			res.Reason += fmt.Sprintf("; %d command(s)", len(cmds))
		}
	}
	taken := false
	if !m.Kind.Automatic() && !internal {
		// A major incident's report is recorded, not relayed (also when
		// the party's problem contact is the one who reported the
		// incident).
		var err error
		if taken, err = p.takeReport(ctx, inc, relayText, verdict); err != nil {
			return err
		}
		if taken {
			internal = true
			res.Reason += "; major incident report correspondence (report " + inc.ReportState(p.now) + ")"
		}
	}
	if mayRespond && !internal && strings.TrimSpace(relayText) != "" && !hasNote(m.NewText) && inc.Assignee == assignee {
		what := "first response"
		if firstEver {
			p.u.firstResponse(inc)
		} else {
			p.u.responseMet(inc)
			what = "first response of " + staff + " since it holds the incident or it was reopened"
		}
		res.Reason += "; " + what + " by " + staff
		if err := p.event(inc, EvFirstResponse, from, fmt.Sprintf("%s by %s (%s)", what, staff, from)); err != nil {
			return err
		}
	}
	if !internal && strings.TrimSpace(relayText) != "" {
		if err := p.relay(ctx, inc, staff, isRequester, relayText); err != nil {
			return err
		}
	}
	if !isRequester && staff == "" && !inChain(p.e.Cfg, from) {
		// Rule 5: anyone can type a tag, or quote a Message-ID he has
		// seen. Record it, but say that this sender was not on the
		// thread before (a reporting chain's member answers for the
		// incidents escalated to them: not an outsider).
		on, err := p.u.isParticipant(ctx, inc, from)
		if err != nil {
			return err
		}
		if !on {
			res.Reason += "; flagged: sender is neither the requester, staff, a provider nor on the thread"
			if err := p.event(inc, EvFlagged, from, fmt.Sprintf("%s joined by %s but is neither the requester, staff, a provider nor on the thread", from, match.reason)); err != nil {
				return err
			}
		}
	}
	// A requester who is also staff and gives commands ("#resolve" on
	// their own incident) does not reopen it with the same mail.
	if isRequester && !taken && !commanded && !m.Kind.Automatic() && (inc.Status == store.StatusResolved || inc.Status == store.StatusWaiting) {
		// The requester's answer reopens a resolved incident, or ends
		// the wait on them (the clocks run again): only when it is
		// really theirs, since anyone can write their From.
		if ok, _ := p.authenticated(); !ok {
			p.deny("not reopened: " + string(inc.Status) + " stays")
		} else if inc.Status == store.StatusResolved {
			p.u.setStatus(inc, store.StatusOpen)
			res.Reason += "; reopened: the requester replied to a resolved incident"
			if err := p.event(inc, EvReopened, from, "the requester replied after resolution"); err != nil {
				return err
			}
		} else {
			// Back to where it was: "open" only once answered.
			back := store.StatusOpen
			if inc.FirstResponseAt == nil {
				back = store.StatusNew
			}
			p.u.setStatus(inc, back)
			if err := p.event(inc, EvStatus, from, "waiting → "+string(back)+": the requester replied"); err != nil {
				return err
			}
		}
	}
	if err := p.flagDenied(inc, res); err != nil {
		return err
	}
	return nil
}

// flagDenied records, as one "flagged" event, what the message was not
// allowed to do because its sender is not authenticated.
func (p *processing) flagDenied(inc *store.Incident, res *Result) error {
	if len(p.denied) == 0 {
		return nil
	}
	_, why := p.authenticated()
	what := strings.Join(p.denied, "; ")
	res.Reason += "; flagged: sender not authenticated: " + what
	return p.event(inc, "flagged", p.msg.From.Addr, fmt.Sprintf("%s is not authenticated (%s): %s", p.msg.From.Addr, why, what))
}

// noSubject is the subject of an incident whose mail had none.
const noSubject = "(no subject)"

// newIncident opens an incident for the message and acknowledges it when
// the loop rules allow.
func (p *processing) newIncident(ctx context.Context, res *Result, why string) error {
	m, cfg := p.msg, p.e.Cfg
	if limit := cfg.Helpdesk.NewIncidentLimit; limit > 0 && !p.in.release && !p.exempt() {
		auth, _ := p.authenticated()
		if n := p.u.newIncidentsBy(m.From.Addr, auth); n >= limit {
			res.Outcome = OutcomeHeld
			res.Reason = fmt.Sprintf("held: %s opened %d incidents in the last hour ([helpdesk] new_incident_limit = %d); release with \"helpdeskd quarantine reprocess\"", m.From.Addr, n, limit)
			return nil
		}
	}
	subject := cleanText(m.NormSubject)
	if subject == "" {
		subject = noSubject
	}
	r := route(cfg, m)
	priority := cfg.Helpdesk.DefaultPriority
	if r.priority != "" {
		priority = r.priority
	}
	if rp, why := rulePriority(cfg, m.Subject, requestText(m)); rp != "" && rp < priority {
		priority = rp
		r.reason += "; " + why
	}
	if old := p.followsClosed; old != nil {
		// The same request again: its subject (not "Re: [HD-1]
		// Resolved: …"), whoever held it, as it was.
		subject = old.Subject
		r = routing{assignee: old.Assignee, category: old.Category, informed: r.informed,
			reason: "follow-up to " + old.Key + ": the assignee it had"}
		if string(old.Priority) < priority {
			priority = string(old.Priority)
		}
	}
	inc := &store.Incident{
		Assignee:    r.assignee,
		Category:    r.category,
		Subject:     subject,
		NormSubject: strings.ToLower(subject),
		Status:      store.StatusNew,
		Priority:    store.Priority(priority),
		// The author: through a list that rewrote From ("Nina via
		// it-staff" <it-staff@lists…>), the person, not the list.
		Requester:     cleanText(m.Author().Addr),
		RequesterName: cleanText(m.Author().Name),
		SenderKey:     cleanText(senderKey(m.Author().Addr)),
		CreatedAt:     p.now,
		UpdatedAt:     p.now,
	}
	if err := p.u.createIncident(ctx, inc); err != nil {
		return err
	}
	if p.u.openedBy == nil {
		p.u.openedBy = map[*store.Incident]string{}
	}
	if ok, _ := p.authenticated(); ok {
		p.u.openedBy[inc] = strings.ToLower(m.From.Addr)
	} else {
		p.u.openedBy[inc] = ""
	}
	if err := p.u.startClocks(ctx, inc); err != nil {
		return err
	}
	p.incident, p.threadReason, p.informed = inc, why, nonNil(r.informed)
	res.Outcome, res.Incident, res.Reason = OutcomeNewIncident, inc.Key, why
	if err := p.event(inc, "created", m.From.Addr, fmt.Sprintf("%s opened by %s (%s): %s", inc.Key, m.From, m.Kind, why)); err != nil {
		return err
	}
	if inc.Assignee != "" || len(cfg.Teams)+len(cfg.Providers) > 0 {
		detail := fmt.Sprintf("assigned to %s: %s", orNobody(inc.Assignee), r.reason)
		if inc.Category != "" {
			detail += "; category " + inc.Category
		}
		if err := p.event(inc, "routed", "helpdeskd", detail); err != nil {
			return err
		}
		if inc.Assignee != "" {
			res.Reason += "; assigned to " + inc.Assignee
		}
		if err := p.notifyAssignee(ctx, inc, r); err != nil {
			return err
		}
	}
	if cfg.Problems.Enabled && p.followsClosed == nil {
		// A follow-up is the same person's same issue, not a repeat.
		if err := p.detectRepeat(ctx, inc, res); err != nil {
			return err
		}
	}
	// A provider's ticket system may open a ticket on its own ("Incident
	// INC0012345 -- opened: …"): its number is learned here too, so the
	// system's later mail about it threads by rule 3.
	if err := p.learnTickets(ctx, inc, &threadMatch{inc: inc, opened: true}); err != nil {
		return err
	}
	if err := p.flagDenied(inc, res); err != nil {
		return err
	}
	if err := p.referredProblem(ctx, inc, res); err != nil {
		return err
	}
	d := DecideAck(m, cfg.Helpdesk.Address, p.u.autoMailSent(m.From.Addr), cfg.Helpdesk.AutoReplyLimit)
	if !d.Send {
		res.Reason += "; not acknowledged: " + d.Reason
		return p.event(inc, "not_acknowledged", "helpdeskd", d.Reason)
	}
	return p.queueAck(ctx, inc, res)
}

func orNobody(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
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
	// Problem is set when the incident is a repeat of a known problem
	// and [problems] notify_requester is on.
	Problem *AckProblem
	// FollowUp: the mail was added to the requester's open incident Key
	// (a follow-up), not recorded as a new one.
	FollowUp bool
}

// AckProblem is the known problem an acknowledged incident is part of.
type AckProblem struct {
	Key, Title, Workaround string
	// Recurrence: every other incident of the problem is the same
	// requester's (resolved, or the report would have been a
	// follow-up): the issue came back to them, nobody else reported it.
	Recurrence bool
}

func (p *processing) queueAck(ctx context.Context, inc *store.Incident, res *Result) error {
	m, cfg := p.msg, p.e.Cfg
	refs := append(append([]string{}, m.References...), m.MessageID)
	if len(refs) > 20 {
		refs = append(refs[:1], refs[len(refs)-19:]...)
	}
	data := AckData{HelpdeskName: cfg.Helpdesk.Name, Key: inc.Key, Subject: inc.Subject,
		RequesterName: p.greeting(), Priority: string(inc.Priority), FollowUp: p.followUpAck,
		ResponseDue: inWords(cfg, inc.ResponseDue), ResolutionDue: inWords(cfg, inc.ResolutionDue)}
	if pr := p.repeat; pr != nil {
		// Said to the address the acknowledgement goes to, so only when
		// it is the requester (not one named by X-Original-From).
		data.Problem = &AckProblem{Key: pr.Key, Title: pr.Title, Recurrence: samePerson(m.From.Addr, inc.Requester)}
		linked, err := p.u.linkedTo(ctx, pr)
		if err != nil {
			return err
		}
		for _, l := range linked {
			if !samePerson(l.Requester, inc.Requester) {
				data.Problem.Recurrence = false
			}
		}
		// A workaround may name internal hosts or accounts, and the
		// title is another requester's subject: they go to the
		// organisation's own people only (a subject is easy to copy, so
		// a detector match alone does not vouch for a sender); others
		// read their own subject as the title.
		if ownDomain(cfg, m.From.Addr) {
			data.Problem.Workaround = pr.Workaround
		} else {
			data.Problem.Title = inc.Subject
		}
	}
	dedupe := "ack:" + inc.Key
	if p.followUpAck {
		dedupe += ":follow-up:" + m.MessageID
	}
	o, queued, err := p.send(inc, outgoing{
		kind: "ack", template: "ack", dedupe: dedupe,
		data: data,
		to:   m.From.Addr, rcptKey: m.From.Addr, inReplyTo: m.MessageID, refs: strings.Join(refs, " "),
		autoSubmitted: "auto-replied",
	})
	if err != nil || !queued {
		return err
	}
	res.Reason += "; acknowledged"
	detail := fmt.Sprintf("acknowledgement <%s> queued to %s", o.MessageID, m.From.Addr)
	if data.Problem != nil {
		detail += ", saying it is part of " + data.Problem.Key
	}
	return p.event(inc, "acknowledged", "helpdeskd", detail)
}

// outgoing is a mail the rules send about an incident.
type outgoing struct {
	kind     OutboxKind // the outbox row's kind
	template string
	data     any
	dedupe   string // one row per dedupe key, ever
	to       string // the To header
	// rcptKey is counted against [helpdesk] auto_reply_limit; empty for
	// mail to staff, which the limit does not protect.
	rcptKey       string
	cc            string // the Cc header (escalations: the level below)
	inReplyTo     string
	refs          string
	autoSubmitted string
	// problem, when set, is the problem whose own thread the mail is
	// on: its Message-ID is a PRB one and it refers to the problem's
	// thread root.
	problem *store.Problem
	// attach are attachments forwarded with the mail (see forward).
	attach []attachRef
}

// send renders an outgoing mail and queues it, from the helpdesk address
// with Reply-To the helpdesk and a Message-ID of ours, so that answers
// thread back. queued is false when a mail of the same dedupe key exists.
func (p *processing) send(inc *store.Incident, out outgoing) (o *store.Outbox, queued bool, err error) {
	cfg := p.e.Cfg
	r, err := p.e.Templates.Render(out.template, out.data)
	if err != nil {
		return nil, false, err
	}
	dedupe := out.dedupe
	var msgID string
	if pr := out.problem; pr != nil {
		inc = nil
		msgID = p.e.problemKeys.NewMessageID(pr.Key)
		root := p.e.problemKeys.ThreadRoot(pr.Key)
		if out.inReplyTo == "" {
			out.inReplyTo = root
		}
		if !strings.Contains(out.refs, root) {
			out.refs = strings.TrimSpace(root + " " + out.refs)
		}
	} else {
		msgID = p.e.keys.NewMessageID(inc.Key)
	}
	o = &store.Outbox{
		Kind:          string(out.kind),
		MessageID:     msgID,
		DedupeKey:     &dedupe,
		FromAddr:      cfg.SMTP.From,
		ToAddrs:       out.to,
		CcAddrs:       out.cc,
		ReplyTo:       cfg.Helpdesk.Address,
		Subject:       r.Subject,
		TextBody:      r.Text,
		HTMLBody:      r.HTML,
		InReplyTo:     out.inReplyTo,
		Refs:          out.refs,
		AutoSubmitted: out.autoSubmitted,
		RcptKey:       out.rcptKey,
		NextAttemptAt: p.now,
		CreatedAt:     p.now,
	}
	if !p.u.enqueue(o, inc, out.problem) {
		return o, false, nil
	}
	if len(out.attach) > 0 {
		p.u.outbox[len(p.u.outbox)-1].attach = out.attach
	}
	p.queued = true
	return o, true, nil
}

// hasNote reports whether a reply's command lines hold a #note (the mail
// is internal, even when the note was refused).
func hasNote(newText string) bool {
	cmds, _ := parseCommands(newText)
	return hasCommand(cmds, "note")
}
