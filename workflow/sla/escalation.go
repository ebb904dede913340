package sla

import (
	"fmt"
	"math"
	"time"
)

// Escalation is the [escalation] table: when the responsible party is
// warned and when a breach climbs its reporting chain.
type Escalation struct {
	// WarnAt is the fraction of a target's budget at which the responsible
	// party is warned, in (0, 1); 0 for no warnings.
	WarnAt float64
	// Levels are the delays after the breach at which chain level 1, 2, …
	// is notified ("0m" is at the breach).
	Levels []Duration
	// Repeat is the interval of reminders to the highest level once it is
	// reached, until acknowledged or resolved; zero for none.
	Repeat Duration
}

// ParseEscalation builds an Escalation from the [escalation] keys warn_at,
// levels and repeat (repeat "" or "0m" for none). Errors name the key and
// the bad value.
func ParseEscalation(warnAt float64, levels []string, repeat string) (Escalation, error) {
	e := Escalation{WarnAt: warnAt}
	if warnAt < 0 || warnAt >= 1 || math.IsNaN(warnAt) {
		return e, fmt.Errorf("escalation: warn_at %v: want a fraction of the target in [0, 1), e.g. 0.8 (0 for no warnings)", warnAt)
	}
	var prev time.Duration
	var prevS string
	for i, l := range levels {
		d, err := ParseDuration(l)
		if err != nil {
			return e, fmt.Errorf("escalation: levels[%d]: %w", i, err)
		}
		// Days and clock time compare on a nominal 24 h day here; on the
		// clock they count the calendar's days.
		n := time.Duration(d.Days)*24*time.Hour + d.Clock
		if i > 0 && n < prev {
			return e, fmt.Errorf("escalation: levels[%d] %q is earlier than levels[%d] %q: want ascending delays", i, l, i-1, prevS)
		}
		prev, prevS = n, l
		e.Levels = append(e.Levels, d)
	}
	if repeat != "" {
		d, err := ParseDuration(repeat)
		if err != nil {
			return e, fmt.Errorf("escalation: repeat: %w", err)
		}
		e.Repeat = d
	}
	return e, nil
}

// NoticeKind says what a notice is.
type NoticeKind string

// The notice kinds.
const (
	Warning  NoticeKind = "warning"  // warn_at reached, to the responsible party
	Level    NoticeKind = "level"    // chain level Level after a breach
	Reminder NoticeKind = "reminder" // Repeat-th reminder to the highest level
)

// Notice is a notification that is due: the tick writes it once, under
// Key, and sends it.
type Notice struct {
	Kind       NoticeKind
	Metric     Metric
	Party      string // the clock's party ("" for the promise to the requester)
	Level      int    // 0 for a warning; 1… chain level (for a reminder: the highest level)
	Repeat     int    // reminders: the slot, 1, 2, … repeats after the highest level; 0 otherwise
	Generation int
	// At is when the clock reached the notice's threshold; a warning held
	// back outside the calendar's hours is due later than At.
	At time.Time
}

// Key is the once-only key of the notice for an incident:
// "<incident>/<metric>[@party]/<level>/g<generation>", level being "warn",
// "L1"… or "L3r2" (second reminder of level 3), e.g. "HD-7/response/L2/g1".
func (n Notice) Key(incident string) string {
	m := string(n.Metric)
	if n.Party != "" {
		m += "@" + n.Party
	}
	var l string
	switch n.Kind {
	case Warning:
		l = "warn"
	case Reminder:
		l = fmt.Sprintf("L%dr%d", n.Level, n.Repeat)
	default:
		l = fmt.Sprintf("L%d", n.Level)
	}
	return fmt.Sprintf("%s/%s/%s/g%d", incident, m, l, n.Generation)
}

// Due returns the notices of clock c that are due at now, given when the
// breach was acknowledged and when the incident was resolved (zero:
// not yet). c must be derived at now or later events ignored.
//
// Delays are counted on the clock itself: a level "4h" after the breach
// of a business-time target is four business hours of the clock's
// calendar (a "1d" one business day), and pauses hold them back as they
// hold the clock. Rules:
//   - nothing while the clock is paused, stopped (the incident is no longer
//     this party's, or its generation ended), met, without target, or
//     once resolved at or before now;
//   - a warning once Fraction reaches WarnAt and before the breach; for a
//     business-time target only while the calendar is open at now (a
//     warning reached at Friday's close is due Monday at the opening);
//   - after the breach every level whose delay has passed (the tick's keys
//     make each one once-only), and the latest reminder of the highest
//     level; nothing at all once acknowledged at or before now.
func (e Escalation) Due(c *Clock, acknowledgedAt, resolvedAt, now time.Time) []Notice {
	if c == nil || !c.HasTarget || c.Met || c.Paused || c.Stopped ||
		!resolvedAt.IsZero() && !resolvedAt.After(now) {
		return nil
	}
	n := Notice{Metric: c.Metric, Party: c.Party, Generation: c.Generation}
	cal := c.Calendar
	if !c.Breached {
		if e.WarnAt <= 0 || c.Fraction < e.WarnAt {
			return nil
		}
		w := c.When(time.Duration(e.WarnAt * float64(c.Budget)))
		if w.IsZero() || w.After(now) || !cal.Open(now) {
			return nil
		}
		n.Kind, n.At = Warning, w
		return []Notice{n}
	}
	if !acknowledgedAt.IsZero() && !acknowledgedAt.After(now) {
		return nil
	}
	var out []Notice
	var last time.Duration
	for i, l := range e.Levels {
		x := c.Budget + cal.Budget(l)
		t := c.When(x)
		if t.IsZero() || t.After(now) {
			break
		}
		n.Kind, n.Level, n.At = Level, i+1, t
		out = append(out, n)
		last = x
	}
	if len(out) == len(e.Levels) && len(out) > 0 && !e.Repeat.IsZero() {
		step := cal.Budget(e.Repeat)
		if k := int((c.Elapsed - last) / step); k > 0 {
			t := c.When(last + time.Duration(k)*step)
			if !t.IsZero() && !t.After(now) {
				out = append(out, Notice{Kind: Reminder, Metric: c.Metric, Party: c.Party,
					Level: len(e.Levels), Repeat: k, Generation: c.Generation, At: t})
			}
		}
	}
	return out
}
