package sla

import (
	"fmt"
	"sort"
	"time"
)

// EventKind is what happened to an incident's clocks.
type EventKind string

// The clock events. Which Event fields each kind reads is listed per kind.
const (
	// Started opens generation 1: Party (the holder), Policy (the holder's
	// policy), Priority, and Promise (the policy promised to the requester;
	// nil means Policy).
	Started EventKind = "started"
	// Paused stops every running clock (waiting on the requester); Note
	// may say why.
	Paused EventKind = "paused"
	// Resumed restarts the clocks of the promise and of the holder.
	Resumed EventKind = "resumed"
	// Met stops the clocks of Metric: the promise's and those of Party
	// (the holder when empty). Met for Resolution resolves the generation
	// and stops all of its clocks.
	Met EventKind = "met"
	// HandedOver gives the incident to Party under Policy: the previous
	// holder's clocks stop, the new holder's start (or continue, if it held
	// the incident before in this generation).
	HandedOver EventKind = "handed_over"
	// PriorityChanged applies the targets of Priority to every clock of
	// the generation; time already counted stays counted.
	PriorityChanged EventKind = "priority_changed"
	// Reopened ends the generation and starts the next one, with all clocks
	// at zero. Party, Policy, Priority and Promise are optional (empty:
	// as before).
	Reopened EventKind = "reopened"
)

// Event is one stored clock event of an incident.
type Event struct {
	At       time.Time
	Kind     EventKind
	Party    string  // Started, HandedOver, Reopened: the holder from At on; Met: who met it
	Policy   *Policy // Started, HandedOver, Reopened: the holder's policy
	Promise  *Policy // Started, Reopened: the requester's policy (nil: Policy)
	Priority string  // Started, PriorityChanged, Reopened
	Metric   Metric  // Met
	Note     string  // free text kept for explanations ("waiting on requester")
}

// Span is a period [From, To); To is zero while it is still open.
type Span struct {
	From, To time.Time
	Note     string
}

// counted is a span of a clock's counting on one calendar.
type counted struct {
	from, to time.Time // to zero: still counting at the derivation's "now"
	cal      *Calendar
}

// Change is a past change of a clock's target, for explanations.
type Change struct {
	At   time.Time
	What string
}

// Clock is one derived SLA clock: the promise to the requester (Party
// empty) or one party's own clock, for one metric in one generation. All
// durations are counted time (business time on a business target, elapsed
// time on a 24x7 one), as of the Now the clock was derived at.
type Clock struct {
	Metric     Metric
	Party      string // "" for the promise to the requester; else the team or provider
	Policy     string
	Priority   string   // the priority whose target applies now
	HasTarget  bool     // false: the policy has no target for Priority and Metric (no due time, no breach)
	Target     Duration // the target in force
	Calendar   *Calendar
	Generation int
	Started    time.Time
	Now        time.Time

	Budget    time.Duration // the target's counted time
	Elapsed   time.Duration // counted time up to Now (or until the clock stopped)
	Remaining time.Duration // Budget - Elapsed; negative once breached
	Fraction  float64       // Elapsed / Budget (0 without target); compare with warn_at

	Running bool // counting at Now
	Paused  bool // stopped by a pause at Now
	Stopped bool // no longer counting: handed over to another party, or its generation ended
	Met     bool
	MetAt   time.Time

	// Due is when Elapsed reaches Budget if the clock keeps running: the
	// breach time once breached, the projected time while running, and for a
	// met clock the due time it had when it was met. Zero while paused or
	// stopped before a breach, or without target.
	Due        time.Time
	Breached   bool
	BreachedAt time.Time
	BreachedBy string // the party that held the incident when the target passed

	Pauses  []Span   // pauses while this clock existed
	Changes []Change // priority and hand-over changes while it existed

	spans []counted
}

// When returns the instant at which the clock's counted time reached (or,
// if it keeps running, will reach) x; zero if it never did and is not
// running. When(Budget) is the due time; an escalation delay d after the
// breach is When(Budget + Calendar.Budget(d)).
func (c *Clock) When(x time.Duration) time.Time { return c.reach(x, c.Running) }

// reach is When, treating the last span as still open if open.
func (c *Clock) reach(x time.Duration, open bool) time.Time {
	var acc time.Duration
	if x <= 0 {
		return c.Started
	}
	for i, s := range c.spans {
		if s.to.IsZero() || open && i == len(c.spans)-1 {
			return s.cal.AddTime(s.from, x-acc)
		}
		b := s.cal.Between(s.from, s.to)
		if acc+b >= x {
			return s.cal.AddTime(s.from, x-acc)
		}
		acc += b
	}
	return time.Time{}
}

// Generation is the derived state of one generation of an incident's
// clocks (a reopen starts the next one).
type Generation struct {
	Number      int
	Start       time.Time
	End         time.Time // resolution or reopen; zero while open
	Priority    string
	Holder      string
	Paused      bool
	PausedSince time.Time
	Resolved    bool
	Clocks      []*Clock // the promise's response and resolution first, then each party's in order of holding
}

// Clock returns the generation's clock for a metric and party ("" for the
// promise), or nil.
func (g *Generation) Clock(m Metric, party string) *Clock {
	for _, c := range g.Clocks {
		if c.Metric == m && c.Party == party {
			return c
		}
	}
	return nil
}

// State is the derivation of all of an incident's clocks at Now.
type State struct {
	Now         time.Time
	Generations []*Generation
}

// Current is the latest generation.
func (s *State) Current() *Generation { return s.Generations[len(s.Generations)-1] }

// Derive computes an incident's clocks at now from its events and the
// policies they name: a pure function (same events, policies and now give
// the same state), so a changed priority, calendar or holiday list gives
// the right due times without drift. Events are ordered by At (stable for
// equal times); those after now are ignored. The first event must be
// Started, with a Policy. Errors name the offending event.
//
// Counting rules: the promise's clocks count all the generation's time
// except pauses, on the promise policy's targets; each party's clocks
// count the time the incident was theirs (except pauses), on its own
// policy's targets. A breach happens when a clock's counted time reaches
// its budget (immediately, at the change, if a priority change lowers
// the budget below what is already counted) and is attributed to the
// holder at that instant. Breaches stay breaches after later changes.
func Derive(events []Event, now time.Time) (*State, error) {
	evs := append([]Event(nil), events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	if len(evs) == 0 || evs[0].Kind != Started {
		return nil, fmt.Errorf("sla: clock events must begin with %q", Started)
	}
	if evs[0].Policy == nil {
		return nil, fmt.Errorf("sla: %q event at %s has no policy", Started, evs[0].At.Format(time.RFC3339))
	}
	if evs[0].At.After(now) {
		return nil, fmt.Errorf("sla: clock starts at %s, after now %s", evs[0].At.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	d := &deriver{now: now}
	for i, e := range evs {
		if e.At.After(now) {
			break
		}
		if i > 0 && e.Kind == Started {
			return nil, fmt.Errorf("sla: second %q event at %s (a reopen is %q)", Started, e.At.Format(time.RFC3339), Reopened)
		}
		if err := d.apply(e); err != nil {
			return nil, err
		}
	}
	d.finish()
	return &State{Now: now, Generations: d.gens}, nil
}

type deriver struct {
	now      time.Time
	gens     []*Generation
	g        *Generation
	promise  *Policy
	policies map[string]*Policy // party -> policy
	last     time.Time          // time up to which clocks are counted
}

// advance counts the running clocks from d.last to t, detecting breaches.
func (d *deriver) advance(t time.Time) {
	if d.g == nil || !t.After(d.last) {
		return
	}
	for _, c := range d.g.Clocks {
		if !c.Running {
			continue
		}
		cal := c.spans[len(c.spans)-1].cal
		seg := cal.Between(d.last, t)
		if c.HasTarget && !c.Breached && c.Elapsed+seg >= c.Budget {
			c.Breached = true
			c.BreachedAt = cal.AddTime(d.last, c.Budget-c.Elapsed)
			c.BreachedBy = d.g.Holder
		}
		c.Elapsed += seg
	}
	d.last = t
}

func (d *deriver) newClock(m Metric, party string, p *Policy, at time.Time) *Clock {
	c := &Clock{Metric: m, Party: party, Policy: p.Name, Generation: d.g.Number, Started: at, Calendar: p.Calendar}
	d.setTarget(c, p, d.g.Priority, at)
	d.g.Clocks = append(d.g.Clocks, c)
	d.start(c, at)
	return c
}

func (d *deriver) policyOf(c *Clock) *Policy {
	if c.Party == "" {
		return d.promise
	}
	return d.policies[c.Party]
}

// setTarget applies priority's target of p to c at time at.
func (d *deriver) setTarget(c *Clock, p *Policy, priority string, at time.Time) {
	c.Priority = priority
	t, ok := p.Target(priority, c.Metric)
	c.HasTarget = ok
	if !ok {
		c.Target, c.Budget = Duration{}, 0
		return
	}
	c.Target, c.Calendar, c.Budget = t.Within, t.Calendar, t.Budget()
	if c.Running && c.spans[len(c.spans)-1].cal != t.Calendar {
		c.spans[len(c.spans)-1].to = at
		c.spans = append(c.spans, counted{from: at, cal: t.Calendar})
	}
	if !c.Breached && c.Elapsed >= c.Budget && (c.Running || c.Elapsed > 0) {
		c.Breached, c.BreachedAt, c.BreachedBy = true, at, d.g.Holder
	}
}

func (d *deriver) start(c *Clock, at time.Time) {
	if c.Running || c.Met || c.Stopped && c.Party == "" {
		return
	}
	c.Running, c.Paused, c.Stopped = true, false, false
	c.spans = append(c.spans, counted{from: at, cal: c.Calendar})
}

func (d *deriver) stop(c *Clock, at time.Time) {
	if c.Running {
		c.Running = false
		c.spans[len(c.spans)-1].to = at
	}
}

func (d *deriver) holderClocks() []*Clock {
	var out []*Clock
	for _, c := range d.g.Clocks {
		if c.Party == "" || c.Party == d.g.Holder {
			out = append(out, c)
		}
	}
	return out
}

func (d *deriver) openGeneration(e Event, n int) error {
	if e.Policy != nil {
		d.policies[e.Party] = e.Policy
	}
	switch {
	case e.Promise != nil:
		d.promise = e.Promise
	case e.Policy != nil && n == 1:
		d.promise = e.Policy
	}
	prio, holder := e.Priority, e.Party
	if d.g != nil {
		if prio == "" {
			prio = d.g.Priority
		}
		if holder == "" {
			holder = d.g.Holder
		}
	}
	if prio == "" {
		return fmt.Errorf("sla: %q event at %s has no priority", e.Kind, e.At.Format(time.RFC3339))
	}
	if d.policies[holder] == nil {
		return fmt.Errorf("sla: %q event at %s: no policy for party %q", e.Kind, e.At.Format(time.RFC3339), holder)
	}
	d.g = &Generation{Number: n, Start: e.At, Priority: prio, Holder: holder}
	d.gens = append(d.gens, d.g)
	d.last = e.At
	d.newClock(Response, "", d.promise, e.At)
	d.newClock(Resolution, "", d.promise, e.At)
	d.newClock(Response, holder, d.policies[holder], e.At)
	d.newClock(Resolution, holder, d.policies[holder], e.At)
	return nil
}

func (d *deriver) apply(e Event) error {
	if d.policies == nil {
		d.policies = map[string]*Policy{}
	}
	if e.Kind == Started {
		return d.openGeneration(e, 1)
	}
	d.advance(e.At)
	g := d.g
	when := e.At.Format(time.RFC3339)
	switch e.Kind {
	case Paused:
		if g.Paused || g.Resolved {
			return nil
		}
		g.Paused, g.PausedSince = true, e.At
		for _, c := range g.Clocks {
			if c.Running {
				d.stop(c, e.At)
				c.Paused = true
				c.Pauses = append(c.Pauses, Span{From: e.At, Note: e.Note})
			}
		}
	case Resumed:
		if !g.Paused {
			return nil
		}
		g.Paused, g.PausedSince = false, time.Time{}
		for _, c := range g.Clocks {
			if c.Paused {
				c.Paused = false
				c.Pauses[len(c.Pauses)-1].To = e.At
			}
		}
		for _, c := range d.holderClocks() {
			d.start(c, e.At)
		}
	case Met:
		if e.Metric != Response && e.Metric != Resolution {
			return fmt.Errorf("sla: %q event at %s: metric %q (want %q or %q)", e.Kind, when, e.Metric, Response, Resolution)
		}
		party := e.Party
		if party == "" {
			party = g.Holder
		}
		for _, c := range g.Clocks {
			if c.Metric == e.Metric && !c.Met && (c.Party == "" || c.Party == party) {
				d.stop(c, e.At)
				if n := len(c.Pauses); c.Paused && n > 0 && c.Pauses[n-1].To.IsZero() {
					c.Pauses[n-1].To = e.At
				}
				c.Met, c.MetAt, c.Paused = true, e.At, false
			}
		}
		if e.Metric == Resolution {
			g.Resolved, g.End = true, e.At
			d.endGeneration(e.At)
		}
	case HandedOver:
		if e.Party == "" || e.Policy == nil {
			return fmt.Errorf("sla: %q event at %s needs a party and its policy", e.Kind, when)
		}
		if e.Party == g.Holder {
			return nil
		}
		for _, c := range g.Clocks {
			if c.Party == g.Holder {
				d.stop(c, e.At)
				if !c.Met {
					c.Stopped = true
				}
				c.Paused = false
				c.Changes = append(c.Changes, Change{e.At, "handed over to " + e.Party})
			} else if c.Party == "" {
				c.Changes = append(c.Changes, Change{e.At, fmt.Sprintf("handed over from %s to %s", g.Holder, e.Party)})
			}
		}
		g.Holder = e.Party
		d.policies[e.Party] = e.Policy
		found := false
		for _, c := range g.Clocks {
			if c.Party != e.Party {
				continue
			}
			found = true
			c.Changes = append(c.Changes, Change{e.At, "handed back to " + e.Party})
			if c.Met {
				continue
			}
			c.Stopped = false
			if g.Paused {
				c.Paused = true
				c.Pauses = append(c.Pauses, Span{From: e.At, Note: "handed over while paused"})
			} else {
				d.start(c, e.At)
			}
			d.setTarget(c, e.Policy, g.Priority, e.At)
		}
		if !found {
			for _, m := range []Metric{Response, Resolution} {
				c := d.newClock(m, e.Party, e.Policy, e.At)
				if g.Paused {
					d.stop(c, e.At)
					c.Paused = true
					c.Pauses = append(c.Pauses, Span{From: e.At, Note: "handed over while paused"})
				}
			}
		}
	case PriorityChanged:
		if e.Priority == "" {
			return fmt.Errorf("sla: %q event at %s has no priority", e.Kind, when)
		}
		if e.Priority == g.Priority {
			return nil
		}
		for _, c := range g.Clocks {
			if c.Met || (c.Stopped && c.Party != g.Holder) {
				continue
			}
			old := c.Target
			hadTarget := c.HasTarget
			d.setTarget(c, d.policyOf(c), e.Priority, e.At)
			what := fmt.Sprintf("priority %s → %s", g.Priority, e.Priority)
			if hadTarget || c.HasTarget {
				what += fmt.Sprintf(" (target %s → %s)", targetWords(hadTarget, old), targetWords(c.HasTarget, c.Target))
			}
			c.Changes = append(c.Changes, Change{e.At, what})
		}
		g.Priority = e.Priority
	case Reopened:
		if !g.Resolved {
			g.End = e.At
			d.endGeneration(e.At)
		}
		return d.openGeneration(e, g.Number+1)
	default:
		return fmt.Errorf("sla: unknown event kind %q at %s", e.Kind, when)
	}
	return nil
}

func targetWords(ok bool, d Duration) string {
	if !ok {
		return "none"
	}
	return d.String()
}

// endGeneration stops all clocks of the current generation at t.
func (d *deriver) endGeneration(t time.Time) {
	for _, c := range d.g.Clocks {
		d.stop(c, t)
		if !c.Met {
			c.Stopped = true
		}
		c.Paused = false
		if n := len(c.Pauses); n > 0 && c.Pauses[n-1].To.IsZero() {
			c.Pauses[n-1].To = t
		}
	}
	d.g.Paused, d.g.PausedSince = false, time.Time{}
}

// finish computes due times (from the last event, so they do not depend
// on now) and counts the running clocks up to now.
func (d *deriver) finish() {
	for _, g := range d.gens {
		for _, c := range g.Clocks {
			c.Now = d.now
			if c.HasTarget && !c.Breached && (c.Running || c.Met) {
				c.Due = c.reach(c.Budget, true)
			}
		}
	}
	d.advance(d.now)
	for _, g := range d.gens {
		for _, c := range g.Clocks {
			if c.Breached {
				c.Due = c.BreachedAt
			}
			if c.HasTarget {
				c.Remaining = c.Budget - c.Elapsed
				if c.Budget > 0 {
					c.Fraction = float64(c.Elapsed) / float64(c.Budget)
				} else if c.Elapsed > 0 || c.Breached {
					c.Fraction = 1
				}
			}
		}
	}
}
