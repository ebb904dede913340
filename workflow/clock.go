package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow/sla"
)

// SLA clocks (ITIL: response and resolution targets). With [[sla]]
// policies configured, every new incident's clocks start; what then
// happens to them is recorded as clock events (started, paused, resumed,
// met, handed over, priority changed, reopened), and the incident's due
// times, breaches and the next instant the tick has work for it are
// derived from those events, the policies and the calendars by
// sla.Derive, in one place: unit.clock. Nothing is added to a due time or
// moved by hand, so a priority change while paused, or a holiday added
// by a configuration reload, gives the right due time.
//
// Two kinds of clock run. The promise to the requester (the first
// [[sla]], "the helpdesk's promise") counts from the request to the first
// response and to the resolution, whoever holds the incident. Each party
// (team or provider) also has a clock of its own under its own policy
// (a provider's contract), counting only the time the incident was
// theirs. A breach of the promise escalates up the reporting chain of the
// party that held the incident when the target passed; a breach of a
// party's own policy, when it differs from the promise, escalates up that
// party's chain. Incidents opened before any [[sla]] was configured have
// no clocks.

// promise is the policy promised to requesters: the first [[sla]].
func promise(cfg *config.Config) *config.SLA {
	if len(cfg.SLAs) == 0 {
		return nil
	}
	return &cfg.SLAs[0]
}

// policyNamed returns the policy of a name, or the promise when there is
// none of that name any more (a reload removed it).
func policyNamed(cfg *config.Config, name string) *sla.Policy {
	for i := range cfg.SLAs {
		if cfg.SLAs[i].Name == name {
			return cfg.SLAs[i].Pol
		}
	}
	if p := promise(cfg); p != nil {
		return p.Pol
	}
	return nil
}

// clock records an event of an incident's SLA clocks; its figures are
// derived again at the flush (deriveClocks), or at once for a Started
// event, whose due times the acknowledgement tells. A Started event starts
// the clocks; other events of an incident without clocks (opened before
// [[sla]] was configured) are ignored. This is the one place clock events
// are made.
func (u *unit) clock(inc *store.Incident, kind sla.EventKind, ev store.ClockEvent) {
	cfg := u.e.Cfg
	pr := promise(cfg)
	if pr == nil || kind != sla.Started && inc.ClockGeneration == 0 {
		return
	}
	ev.Kind, ev.At = string(kind), u.now
	if kind == sla.Started || kind == sla.HandedOver {
		if ev.Party == "" {
			ev.Party = inc.Assignee
		}
		if pt := directoryOf(cfg).Party(ev.Party); pt != nil && pt.Policy != nil {
			ev.Policy = pt.Policy.Name
		} else if pr := promise(cfg); pr != nil {
			ev.Policy = pr.Name // a party no longer configured: the first [[sla]]
		}
	}
	if kind == sla.Started {
		ev.Promise, ev.Priority = pr.Name, string(inc.Priority)
		// Started now; the flush derives it again with whatever else
		// happens in the batch.
		inc.ClockGeneration = 1
	}
	if u.clockEvs == nil {
		u.clockEvs, u.clockDirty = map[*store.Incident][]store.ClockEvent{}, map[*store.Incident]bool{}
	}
	u.clockEvs[inc] = append(u.clockEvs[inc], ev)
	u.clockDirty[inc] = true
	u.dirty[inc] = true
}

// startClocks starts a new incident's clocks and derives its due times
// at once.
func (u *unit) startClocks(ctx context.Context, inc *store.Incident) error {
	u.clock(inc, sla.Started, store.ClockEvent{})
	if !u.clockDirty[inc] {
		return nil
	}
	st, err := u.deriveClocks(ctx, inc)
	if err != nil {
		return err
	}
	u.applyClocks(inc, st, true)
	return nil
}

// deriveDirty derives again the clocks of the incidents whose clock
// events changed in this unit.
func (u *unit) deriveDirty(ctx context.Context) error {
	for inc := range u.clockDirty {
		st, err := u.deriveClocks(ctx, inc)
		if err != nil {
			return err
		}
		u.applyClocks(inc, st, true)
	}
	clear(u.clockDirty)
	return nil
}

// clockEvents are an incident's clock events: stored, then this unit's.
func (u *unit) clockEvents(ctx context.Context, inc *store.Incident) ([]store.ClockEvent, error) {
	if u.clockStored == nil {
		u.clockStored = map[int64][]store.ClockEvent{}
	}
	var out []store.ClockEvent
	if inc.ID != 0 {
		stored, ok := u.clockStored[inc.ID]
		if !ok {
			m, err := u.tx.ClockEvents(ctx, []int64{inc.ID})
			if err != nil {
				return nil, err
			}
			stored = m[inc.ID]
			u.clockStored[inc.ID] = stored
		}
		out = append(out, stored...)
	}
	return append(out, u.clockEvs[inc]...), nil
}

// deriveClocks derives an incident's clocks at the unit's now.
func (u *unit) deriveClocks(ctx context.Context, inc *store.Incident) (*sla.State, error) {
	evs, err := u.clockEvents(ctx, inc)
	if err != nil {
		return nil, err
	}
	return deriveAt(u.e.Cfg, inc, evs, u.now)
}

// responseOwed reports whether a response clock of the incident's current
// generation still runs for its holder: the promise's, or the holder's
// own contract's.
func (p *processing) responseOwed(ctx context.Context, inc *store.Incident) (bool, error) {
	st, err := p.u.deriveClocks(ctx, inc)
	if err != nil || st == nil {
		return false, err
	}
	for _, c := range st.Current().Clocks {
		if c.Metric == sla.Response && !c.Met && !c.Stopped && (c.Party == "" || c.Party == inc.Assignee) {
			return true, nil
		}
	}
	return false, nil
}

// deriveAt turns stored clock events into the sla package's and derives
// the clocks at now.
func deriveAt(cfg *config.Config, inc *store.Incident, stored []store.ClockEvent, now time.Time) (*sla.State, error) {
	evs := make([]sla.Event, 0, len(stored))
	for _, e := range stored {
		se := sla.Event{At: e.At, Kind: sla.EventKind(e.Kind), Party: e.Party, Priority: e.Priority, Metric: sla.Metric(e.Metric), Note: e.Note}
		if e.Policy != "" {
			se.Policy = policyNamed(cfg, e.Policy)
		}
		if e.Promise != "" {
			se.Promise = policyNamed(cfg, e.Promise)
		}
		if se.Kind == sla.Started && se.Policy == nil {
			se.Policy = policyNamed(cfg, "")
		}
		evs = append(evs, se)
	}
	if len(evs) == 0 || evs[0].Policy == nil {
		return nil, nil // no clocks, or no [[sla]] any more
	}
	// Events are in the order they were recorded; one recorded at a
	// clock set back (--now, another instance) happened no earlier than
	// the one before it.
	for i := 1; i < len(evs); i++ {
		if evs[i].At.Before(evs[i-1].At) {
			evs[i].At = evs[i-1].At
		}
	}
	// The process clock may stand before a recorded event (--now set
	// back, another instance's clock ahead): derive at the latest event
	// rather than fail the message or the tick.
	for _, e := range evs {
		if e.At.After(now) {
			now = e.At
		}
	}
	st, err := sla.Derive(evs, now)
	if err != nil {
		return nil, fmt.Errorf("%s: clocks: %w", inc.Key, err)
	}
	return st, nil
}

// escalated lists the clocks of a generation that escalate: the
// promise's, and each party's own when its policy is not the promise's.
func escalated(cfg *config.Config, g *sla.Generation) []*sla.Clock {
	pr := promise(cfg)
	var out []*sla.Clock
	for _, c := range g.Clocks {
		if c.Party == "" || pr == nil || c.Policy != pr.Name {
			out = append(out, c)
		}
	}
	return out
}

// applyClocks copies the derived figures of the current generation onto
// the incident. dueNow: when a notice is due already, the tick is to run
// it at once (next_due_at = now); the tick itself, having sent what was
// due, asks only for the next instant.
func (u *unit) applyClocks(inc *store.Incident, st *sla.State, dueNow bool) {
	cfg := u.e.Cfg
	if st == nil {
		inc.NextDueAt = nil // no [[sla]] any more: nothing for the tick
		return
	}
	g := st.Current()
	// A breach stays in the figures: a later change (a lower priority
	// without a target) does not take it back, nor does a reopen (a new
	// generation that meets its targets): the incident's figures keep the
	// latest breach of the promise, and who held it then.
	respBreach, resBreach := inc.ResponseBreachedAt, inc.ResolutionBreachedAt
	respBy, resBy := inc.ResponseBreachedBy, inc.ResolutionBreachedBy
	inc.ClockGeneration, inc.Paused = g.Number, g.Paused
	if pr := promise(cfg); pr != nil && inc.SLA == "" {
		inc.SLA = pr.Name
	}
	resp, res := g.Clock(sla.Response, ""), g.Clock(sla.Resolution, "")
	if resp != nil {
		inc.SLA = resp.Policy
	}
	inc.ResponseDue, inc.ResponseBreachedAt = dueAndBreach(resp)
	inc.ResolutionDue, inc.ResolutionBreachedAt = dueAndBreach(res)
	if inc.ResponseBreachedAt == nil {
		inc.ResponseBreachedAt, inc.ResponseBreachedBy = respBreach, respBy
	} else {
		inc.ResponseBreachedBy = breachedBy(inc, resp)
	}
	if inc.ResolutionBreachedAt == nil {
		inc.ResolutionBreachedAt, inc.ResolutionBreachedBy = resBreach, resBy
	} else {
		inc.ResolutionBreachedBy = breachedBy(inc, res)
	}
	inc.NextDueAt = nextWork(cfg, inc, g, st.Now, dueNow)
}

// breachedBy is the party a breached clock counts against: who held the
// incident when its target passed.
func breachedBy(inc *store.Incident, c *sla.Clock) string {
	if c != nil && c.BreachedBy != "" {
		return c.BreachedBy
	}
	return inc.Assignee
}

func dueAndBreach(c *sla.Clock) (due, breached *time.Time) {
	if c == nil || !c.HasTarget {
		return nil, nil
	}
	if !c.Due.IsZero() {
		d := c.Due.UTC()
		due = &d
	}
	if c.Breached {
		b := c.BreachedAt.UTC()
		breached = &b
	}
	return due, breached
}

// ackFor is when the breach of c was acknowledged: the incident's
// acknowledgement counts for breaches that happened before it.
func ackFor(cfg *config.Config, inc *store.Incident, c *sla.Clock) time.Time {
	if !c.Breached {
		return time.Time{}
	}
	party := escalationParty(inc, c)
	if a, ok := acksOf(inc)[party]; ok {
		if a.At.Before(c.BreachedAt) {
			return time.Time{}
		}
		return a.At
	}
	// Recorded before acknowledgements were kept per party.
	if inc.AcknowledgedAt == nil || inc.AcknowledgedAt.Before(c.BreachedAt) || !directoryOf(cfg).OnChainOf(inc.AcknowledgedBy, party) {
		return time.Time{}
	}
	return *inc.AcknowledgedAt
}

// ack is one party's acknowledgement of its breaches.
type ack struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// acksOf decodes an incident's acknowledgements by party.
func acksOf(inc *store.Incident) map[string]ack {
	m := map[string]ack{}
	if inc.Acks != "" {
		_ = json.Unmarshal([]byte(inc.Acks), &m)
	}
	return m
}

// escalationParty is the party whose reporting chain a clock's breach
// goes to: the clock's own party, else the party that held the incident
// when the target passed, else the assignee.
func escalationParty(inc *store.Incident, c *sla.Clock) string {
	switch {
	case c.Party != "":
		return c.Party
	case c.BreachedBy != "":
		return c.BreachedBy
	}
	return inc.Assignee
}

// nextWork is the next instant the tick has work for the incident: the
// earliest warning, breach, escalation level or reminder still ahead of
// now on any escalated clock (now itself when one is due and dueNow);
// nil when none is ahead (paused, met, resolved, acknowledged).
func nextWork(cfg *config.Config, inc *store.Incident, g *sla.Generation, now time.Time, dueNow bool) *time.Time {
	rules := cfg.Escalation.Rules
	var best time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	for _, c := range escalated(cfg, g) {
		if !c.HasTarget || c.Met || c.Paused || c.Stopped || !c.Running {
			continue
		}
		if dueNow && len(rules.Due(c, ackFor(cfg, inc, c), time.Time{}, now)) > 0 {
			consider(now)
			continue
		}
		cal := c.Calendar
		if !c.Breached {
			if rules.WarnAt > 0 {
				w := c.When(time.Duration(rules.WarnAt * float64(c.Budget)))
				switch {
				case w.After(now):
					if !cal.Open(w) {
						w = cal.NextOpen(w)
					}
					consider(w)
				case !cal.Open(now):
					// Reached while the office was closed (or the
					// daemon down): the warning goes out when it opens.
					consider(cal.NextOpen(now))
				}
			}
			consider(c.When(c.Budget))
			continue
		}
		if !ackFor(cfg, inc, c).IsZero() {
			continue
		}
		var last time.Duration
		ahead := false
		for _, l := range rules.Levels {
			last = c.Budget + cal.Budget(l)
			if t := c.When(last); t.After(now) {
				consider(t)
				ahead = true
				break
			}
		}
		if !ahead && !rules.Repeat.IsZero() && len(rules.Levels) > 0 {
			step := cal.Budget(rules.Repeat)
			k := (c.Elapsed-last)/step + 1
			if k < 1 {
				k = 1
			}
			consider(c.When(last + time.Duration(k)*step))
		}
	}
	if best.IsZero() {
		return nil
	}
	b := best.UTC()
	return &b
}

// flushClocks writes this unit's clock events, after the incidents they
// belong to have their ids.
func (u *unit) flushClocks(ctx context.Context) error {
	var rows []*store.ClockEvent
	for inc, evs := range u.clockEvs {
		for i := range evs {
			e := evs[i]
			e.IncidentID = inc.ID
			rows = append(rows, &e)
			if u.clockStored != nil && inc.ID != 0 {
				if _, loaded := u.clockStored[inc.ID]; loaded {
					u.clockStored[inc.ID] = append(u.clockStored[inc.ID], e)
				}
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].IncidentID < rows[j].IncidentID })
	clear(u.clockEvs)
	return u.tx.InsertClockEvents(ctx, rows)
}

// When, in words, for people: "Tuesday 1 December 11:00" in the
// helpdesk's time zone (and the zone's name when it is not UTC).
func inWords(cfg *config.Config, t *time.Time) string {
	if t == nil {
		return ""
	}
	loc := cfg.Helpdesk.Location
	if loc == nil {
		loc = time.UTC
	}
	f := t.In(loc).Format("Monday 2 January 15:04")
	// A time of the hour a fall-back change repeats names its offset:
	// "Sunday 25 October 02:30 CET" is not 02:30 CEST.
	for _, d := range []time.Duration{-2 * time.Hour, -time.Hour, time.Hour, 2 * time.Hour} {
		if t.Add(d).In(loc).Format("Monday 2 January 15:04") == f {
			f += " " + t.In(loc).Format("MST")
			break
		}
	}
	return f + " (" + loc.String() + ")"
}

// targetWords says a target: "4h on the office calendar (Europe/London)".
func targetWords(c *sla.Clock) string {
	if c == nil || !c.HasTarget {
		return ""
	}
	if c.Calendar.Is24x7() {
		return c.Target.String() + " around the clock"
	}
	return fmt.Sprintf("%s of business time on the %s calendar (%s)", c.Target, c.Calendar.Name(), c.Calendar.Location())
}

// partyName is a party's name for people: its display name.
func partyName(cfg *config.Config, party string) string {
	if party == "" {
		return "nobody"
	}
	return cfg.DisplayName(party)
}

// statusClock records what a status change means for the clocks:
// waiting on the requester pauses them, leaving waiting resumes them,
// resolving (or closing what was not resolved) meets the resolution
// target, and reopening starts the next generation.
func (u *unit) statusClock(inc *store.Incident, from, to store.Status) {
	done := func(s store.Status) bool { return s == store.StatusResolved || s == store.StatusClosed }
	switch {
	case from == to:
	case done(to) && !done(from):
		if from == store.StatusWaiting {
			u.clock(inc, sla.Resumed, store.ClockEvent{})
		}
		u.clock(inc, sla.Met, store.ClockEvent{Metric: string(sla.Resolution), Party: inc.Assignee})
	case done(from) && !done(to):
		u.clock(inc, sla.Reopened, store.ClockEvent{})
		// The acknowledgements and the level reached stay on record with
		// the breaches they were for (an acknowledgement covers only the
		// breaches before it, so the new generation escalates again).
		if to == store.StatusWaiting {
			u.clock(inc, sla.Paused, store.ClockEvent{Note: "waiting on the requester"})
		}
	case to == store.StatusWaiting:
		u.clock(inc, sla.Paused, store.ClockEvent{Note: "waiting on the requester"})
	case from == store.StatusWaiting:
		u.clock(inc, sla.Resumed, store.ClockEvent{})
	}
}

// setPriority changes an incident's priority; its clocks take the new
// targets from now on.
func (u *unit) setPriority(inc *store.Incident, priority store.Priority) {
	if inc.Priority == priority {
		return
	}
	inc.Priority, inc.UpdatedAt = priority, u.now
	u.dirty[inc] = true
	u.clock(inc, sla.PriorityChanged, store.ClockEvent{Priority: string(priority)})
}

// assign hands an incident to a team or provider; its clocks under that
// party's policy start.
func (u *unit) assign(inc *store.Incident, party string) {
	if inc.Assignee == party {
		return
	}
	inc.Assignee, inc.UpdatedAt = party, u.now
	u.dirty[inc] = true
	u.clock(inc, sla.HandedOver, store.ClockEvent{Party: party})
}

// rulePriority is the highest priority of the [[priority_rule]]s whose
// keywords appear as whole words in the subject or the first lines of the
// new text ("" when none does), and the keyword that set it.
func rulePriority(cfg *config.Config, subject, newText string) (priority, why string) {
	text := words(subject + " " + firstLines(newText, routeLines))
	for _, r := range cfg.PriorityRules {
		for _, k := range r.Keywords {
			if strings.Contains(text, words(k)) && (priority == "" || r.Priority < priority) {
				priority, why = r.Priority, fmt.Sprintf("priority rule: keyword %q", k)
			}
		}
	}
	return priority, why
}

// ClockStory tells an incident's SLA clocks in words, generation by
// generation: what was promised, on which calendar, when each target is
// or was due and why (pauses, holidays, priority changes, hand-overs),
// whether it was met or breached and by whom. Empty for an incident
// without clocks.
func ClockStory(ctx context.Context, cfg *config.Config, r store.Reader, key string, now time.Time) ([]string, error) {
	inc, err := r.IncidentByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	m, err := r.ClockEvents(ctx, []int64{inc.ID})
	if err != nil || len(m[inc.ID]) == 0 {
		return nil, err
	}
	st, err := deriveAt(cfg, inc, m[inc.ID], now)
	if err != nil || st == nil {
		return nil, err
	}
	var out []string
	for _, g := range st.Generations {
		if len(st.Generations) > 1 {
			out = append(out, fmt.Sprintf("Generation %d (from %s):", g.Number, inWords(cfg, &g.Start)))
		}
		for _, c := range escalated(cfg, g) {
			if !c.HasTarget {
				continue
			}
			who := "Promise (" + c.Policy + ")"
			if c.Party != "" {
				who = partyName(cfg, c.Party) + "'s own target (" + c.Policy + ")"
			}
			line := fmt.Sprintf("%s, %s for %s within %s", who, metricWords(c.Metric), c.Priority, targetWords(c))
			switch {
			case c.Met && c.Breached:
				line += fmt.Sprintf(": met %s, late: breached %s while %s held it", inWords(cfg, &c.MetAt), inWords(cfg, &c.BreachedAt), partyName(cfg, c.BreachedBy))
			case c.Met:
				line += fmt.Sprintf(": met %s, due %s", inWords(cfg, &c.MetAt), inWords(cfg, &c.Due))
			case c.Breached:
				line += fmt.Sprintf(": breached %s while %s held it", inWords(cfg, &c.BreachedAt), partyName(cfg, c.BreachedBy))
			case c.Paused:
				line += ": paused, waiting on the requester"
			case c.Stopped:
				line += ": stopped (handed over)"
			case !c.Due.IsZero():
				line += fmt.Sprintf(": due %s", inWords(cfg, &c.Due))
			}
			out = append(out, line)
			for _, l := range strings.Split(strings.TrimSpace(sla.Explain(c).String()), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					out = append(out, "  "+l)
				}
			}
		}
	}
	return out, nil
}
