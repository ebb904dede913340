package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow/sla"
)

// Escalation (the tick's "sla-escalation" job). The incidents whose next
// due time has come are read through the index on next_due_at (only
// those: the cost follows the incidents that are due, not the open ones),
// locked on PostgreSQL, and their clocks derived at the process clock.
// For each escalated clock, sla.Escalation.Due says which notices are due:
// the warning to the responsible party at [escalation] warn_at (for a
// business-time target only while its calendar is open), chain level 1 at
// the breach, further levels after their delays, a reminder to the
// highest level every repeat until "#ack" or resolution. Each notice is
// an event with a once-only key (incident, metric, level, generation)
// written in the same transaction as its outbox row, before anything is
// sent: a repeated tick, a restart or a second daemon finds the key and
// sends nothing again.

// escalationBatch bounds the incidents one tick handles; the rest stay
// due for the next.
const escalationBatch = 500

// EscalationJob is the tick's job that warns and escalates.
func (e *Engine) EscalationJob() Job {
	return Job{Name: "sla-escalation", Run: e.escalate}
}

// EscalationData is what the escalation template sees.
type EscalationData struct {
	HelpdeskName string
	Key          string
	Subject      string
	Requester    string
	Priority     string
	Kind         string // warning, level, reminder
	Level        int
	Repeat       int
	Metric       string // "first response" or "resolution"
	Party        string // who held the incident
	Promise      string // whose promise: "the helpdesk's promise (standard)", "acme's contract (acme-contract)"
	Target       string
	Due          string
	Breached     string
	Overdue      string // "8h 30m", counted as the target counts ("of business time" when it does)
	Contract     string // the policy of a party's own target ("acme-contract"); "" for the helpdesk's promise
	Why          string
	Timeline     []TimelineEntry
}

// TimelineEntry is one line of what happened on an incident.
type TimelineEntry struct {
	When, Who, What string
}

func (e *Engine) escalate(ctx context.Context, w *Work) error {
	cfg := e.Cfg
	if promise(cfg) == nil {
		return nil
	}
	incs, err := w.Tx.DueIncidents(ctx, w.Now, escalationBatch)
	if err != nil || len(incs) == 0 {
		return err
	}
	ids := make([]int64, len(incs))
	for i, inc := range incs {
		ids[i] = inc.ID
	}
	evs, err := w.Tx.ClockEvents(ctx, ids)
	if err != nil {
		return err
	}
	u := w.u
	if u.clockStored == nil {
		u.clockStored = map[int64][]store.ClockEvent{}
	}
	// Decide, for every due incident, what is due; then look up once
	// which of those notices went out before.
	type due struct {
		inc *store.Incident
		c   *sla.Clock
		n   sla.Notice
		key string
	}
	var todo []due
	var keys []string
	for _, inc := range incs {
		u.incByID[inc.ID], u.incByKey[inc.Key] = inc, inc
		u.clockStored[inc.ID] = evs[inc.ID]
		st, err := deriveAt(cfg, inc, evs[inc.ID], w.Now)
		if err != nil || st == nil {
			// A clock that cannot be derived must not stop the others.
			if err != nil {
				e.Log.Error("clock not derived", "incident", inc.Key, "error", err)
			}
			inc.NextDueAt = nil
			u.dirty[inc] = true
			continue
		}
		g := st.Current()
		var resolved time.Time
		if inc.ResolvedAt != nil {
			resolved = *inc.ResolvedAt
		}
		for _, c := range escalated(cfg, g) {
			for _, n := range cfg.Escalation.Rules.Due(c, ackFor(cfg, inc, c), resolved, w.Now) {
				k := "sla:" + n.Key(inc.Key)
				todo, keys = append(todo, due{inc, c, n, k}), append(keys, k)
				if n.Kind == sla.Reminder {
					keys = append(keys, highestLevel(inc.Key, n))
					keys = append(keys, earlierReminders(inc.Key, n)...)
				}
			}
		}
		u.applyClocks(inc, st, false)
		u.dirty[inc] = true
	}
	recorded, err := w.Tx.EventKeysExist(ctx, keys)
	if err != nil {
		return err
	}
	done := func(k string) bool { _, ok := recorded[k]; return ok }
	// A reminder follows the highest level as it went out: not in the
	// same tick (after downtime the levels that fell due go first), and
	// only in a reminder slot that began after that level was recorded,
	// so the first reminder comes up to one repeat later.
	kept := todo[:0]
	for _, d := range todo {
		if d.n.Kind == sla.Reminder {
			if at, ok := recorded[highestLevel(d.inc.Key, d.n)]; !ok || !at.Before(d.n.At) {
				continue
			}
		}
		kept = append(kept, d)
	}
	todo = kept
	var story []int64
	seen := map[int64]bool{}
	for _, d := range todo {
		if !done(d.key) && !seen[d.inc.ID] {
			seen[d.inc.ID] = true
			story = append(story, d.inc.ID)
		}
	}
	timelines, err := w.Tx.Timelines(ctx, story)
	if err != nil {
		return err
	}
	p := &processing{e: e, u: u, now: w.Now}
	for _, d := range todo {
		if done(d.key) {
			continue // sent before: a repeated tick, or another daemon
		}
		if d.n.Kind == sla.Reminder {
			// Numbered by the reminders that went out: after downtime
			// the first one sent is "reminder 1", not the slot it fell
			// in (its once-only key keeps the slot).
			shown := 1
			for _, k := range earlierReminders(d.inc.Key, d.n) {
				if done(k) {
					shown++
				}
			}
			d.n.Repeat = shown
		}
		if err := p.notice(d.inc, d.c, d.n, d.key, timelines[d.inc.ID]); err != nil {
			return err
		}
	}
	u.events = append(u.events, p.events...)
	return nil
}

// highestLevel is the once-only key of the level a reminder repeats.
func highestLevel(incident string, n sla.Notice) string {
	l := n
	l.Kind, l.Repeat = sla.Level, 0
	return "sla:" + l.Key(incident)
}

// earlierReminders are the once-only keys of the reminders in the slots
// before n's (none unless n is a reminder).
func earlierReminders(incident string, n sla.Notice) []string {
	if n.Kind != sla.Reminder {
		return nil
	}
	keys := make([]string, 0, n.Repeat-1)
	for r := 1; r < n.Repeat; r++ {
		e := n
		e.Repeat = r
		keys = append(keys, "sla:"+e.Key(incident))
	}
	return keys
}

// notice records and queues one due notice, under its once-only key.
func (p *processing) notice(inc *store.Incident, c *sla.Clock, n sla.Notice, key string, timeline []store.TimelineMessage) error {
	cfg := p.e.Cfg
	party := inc.Assignee // a warning goes to whoever holds it now
	if n.Kind != sla.Warning {
		party = escalationParty(inc, c)
	}
	var to, cc []string
	level, unsent := n.Level, false
	detail := noticeWords(n, c, party)
	if n.Kind == sla.Warning {
		to = responsible(cfg, party)
	} else {
		var chain []string
		if pt := directoryOf(cfg).Party(party); pt != nil {
			chain = pt.Chain
		}
		switch {
		case n.Kind == sla.Level && level > len(chain):
			// On record all the same (a team renamed or removed by a
			// reload leaves its open incidents with no chain at all).
			level, unsent = 0, true
			switch {
			case directoryOf(cfg).Party(party) == nil:
				detail += fmt.Sprintf("; not sent: %s is not a team or provider of the configuration (renamed or removed?)", party)
			case len(chain) == 0:
				detail += fmt.Sprintf("; not sent: %s has no reporting chain (set its chain)", party)
			default:
				detail += fmt.Sprintf("; not sent: %s's reporting chain has no one at this level", party)
			}
		case level > len(chain):
			level = len(chain) // reminders go to the highest level there is
		}
		to, cc = levelRecipients(chain, level)
	}
	switch {
	case len(to) > 0:
		detail += " to " + strings.Join(to, ", ")
	case !unsent:
		detail += "; nobody to tell (no members, intake or chain configured)"
	}
	k := key
	p.events = append(p.events, pendingEvent{inc: inc, ev: &store.Event{Kind: "sla_" + string(n.Kind), Actor: "helpdeskd",
		Detail: cleanText(detail), CreatedAt: p.now, DedupeKey: &k}})
	if level > inc.EscalationLevel {
		inc.EscalationLevel = level // the highest level that has a person
	}
	if len(to) == 0 {
		return nil
	}
	// Threaded with the incident: its first message, and every later
	// escalation refers to the same root.
	var inReplyTo string
	if len(timeline) > 0 {
		inReplyTo = timeline[0].MessageID
	}
	_, _, err := p.send(inc, outgoing{
		kind: OutboxKind("sla_" + string(n.Kind)), template: "escalation", dedupe: key, data: p.escalationData(inc, c, n, party, timeline),
		to: strings.Join(to, ", "), cc: strings.Join(cc, ", "), autoSubmitted: "auto-generated",
		inReplyTo: inReplyTo, refs: inReplyTo,
	})
	return err
}

// levelRecipients are who an escalation to chain level l (1-based) goes
// to: the person at that level, the level below in Cc; none past the
// chain's end.
func levelRecipients(chain []string, l int) (to, cc []string) {
	if l < 1 || l > len(chain) {
		return nil, nil
	}
	to = []string{chain[l-1]}
	if l >= 2 {
		cc = []string{chain[l-2]}
	}
	return to, cc
}

// responsible are the addresses of the party that does the work: a
// team's members or a provider's intake.
func responsible(cfg *config.Config, party string) []string {
	pt := directoryOf(cfg).Party(party)
	if pt == nil {
		return nil
	}
	var to []string
	for _, m := range pt.Members {
		if m != "" { // a provider without an intake address
			to = append(to, m)
		}
	}
	return to
}

func metricWords(m sla.Metric) string {
	if m == sla.Response {
		return "first response"
	}
	return "resolution"
}

// noticeWords says a notice for the audit trail.
func noticeWords(n sla.Notice, c *sla.Clock, party string) string {
	whose := "promise"
	if c.Party != "" {
		whose = c.Party + "'s own target"
	}
	switch n.Kind {
	case sla.Warning:
		return fmt.Sprintf("warning: %s (%s) at %.0f%% of its target", metricWords(n.Metric), whose, c.Fraction*100)
	case sla.Reminder:
		return fmt.Sprintf("reminder %d: %s (%s) breached, not acknowledged; %s's chain level %d", n.Repeat, metricWords(n.Metric), whose, party, n.Level)
	}
	return fmt.Sprintf("escalated: %s (%s) breached; %s's chain level %d", metricWords(n.Metric), whose, party, n.Level)
}

// spanWords writes a span for people, to the minute: "45m", "8h",
// "32h 5m", "0m".
func spanWords(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh %dm", h, m)
}

// escalationData gathers what an escalation mail says: the promise, the
// due time and why, and the incident's story.
func (p *processing) escalationData(inc *store.Incident, c *sla.Clock, n sla.Notice, party string, timeline []store.TimelineMessage) EscalationData {
	cfg := p.e.Cfg
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return inWords(cfg, &t)
	}
	whose := fmt.Sprintf("the helpdesk's promise (%s)", c.Policy)
	if c.Party != "" {
		whose = fmt.Sprintf("%s's own target (%s)", partyName(cfg, c.Party), c.Policy)
	}
	d := EscalationData{HelpdeskName: cfg.Helpdesk.Name, Key: inc.Key, Subject: inc.Subject, Requester: inc.Requester,
		Priority: c.Priority, Kind: string(n.Kind), Level: n.Level, Repeat: n.Repeat, Metric: metricWords(n.Metric),
		Party: partyName(cfg, party), Promise: whose, Target: targetWords(c), Due: when(c.Due), Why: sla.Explain(c).String()}
	if c.Party != "" {
		d.Contract = c.Policy
	}
	if c.Breached {
		d.Breached = when(c.BreachedAt)
		if over := -c.Remaining; over > 0 {
			d.Overdue = spanWords(over)
			if !c.Calendar.Is24x7() {
				d.Overdue += " of business time"
			}
		}
	}
	for _, m := range timeline {
		who := m.FromAddr
		if m.Direction != "in" {
			who = "helpdesk to " + m.ToAddrs
		}
		what := firstLines(m.Start, 1)
		if r := []rune(what); len(r) > 120 {
			what = string(r[:120]) + "…"
		}
		if what == "" {
			what = m.Subject
		}
		d.Timeline = append(d.Timeline, TimelineEntry{When: when(m.ReceivedAt), Who: who, What: what})
	}
	if inc.FirstResponseAt != nil {
		d.Timeline = append(d.Timeline, TimelineEntry{When: when(*inc.FirstResponseAt), Who: inc.Assignee,
			What: "first response, " + spanWords(inc.FirstResponseAt.Sub(inc.CreatedAt)) + " after the request"})
	}
	return d
}

// acknowledge runs "#ack": someone on a reporting chain takes note of the
// incident's breach. No further levels or reminders go out for the
// breaches so far (a later breach escalates again); the breach stays in
// the figures.
func (p *processing) acknowledge(ctx context.Context, inc *store.Incident) (string, bool, bool, error) {
	cfg := p.e.Cfg
	from := strings.ToLower(p.msg.From.Addr)
	if !inChain(cfg, from) {
		return "only someone on a reporting chain acknowledges a breach", false, false, nil
	}
	// Only the chain the breach went to answers for it: a provider's
	// account manager does not acknowledge the in-house team's breach.
	st, err := p.u.deriveClocks(ctx, inc)
	if err != nil {
		return "", false, false, err
	}
	var whose, mine []string
	if st != nil {
		for _, c := range escalated(cfg, st.Current()) {
			if !c.Breached {
				continue
			}
			party := escalationParty(inc, c)
			if directoryOf(cfg).OnChainOf(from, party) {
				if !slices.Contains(mine, party) {
					mine = append(mine, party)
				}
			} else if !slices.Contains(whose, party) {
				whose = append(whose, party)
			}
		}
	}
	ok := len(mine) > 0
	if !ok {
		if len(whose) == 0 {
			return "nothing to acknowledge: no target of " + inc.Key + " is breached", false, false, nil
		}
		return "not yours to acknowledge: " + inc.Key + "'s breach is " + strings.Join(whose, " and ") + "'s, and you are not on that reporting chain", false, false, nil
	}
	at := p.now
	inc.AcknowledgedBy, inc.AcknowledgedAt = from, &at
	// Each party's chain acknowledges its own breaches: a later #ack
	// from another party's chain does not take this one back.
	acks := acksOf(inc)
	for _, party := range mine {
		acks[party] = ack{By: from, At: at}
	}
	b, err := json.Marshal(acks)
	if err != nil {
		return "", false, false, err
	}
	inc.Acks = string(b)
	p.u.dirty[inc] = true
	if p.u.clockDirty == nil {
		p.u.clockEvs, p.u.clockDirty = map[*store.Incident][]store.ClockEvent{}, map[*store.Incident]bool{}
	}
	p.u.clockDirty[inc] = true // next_due_at without the acknowledged levels
	return "breach acknowledged by " + from + ": no further escalation levels or reminders", true, false, nil
}
