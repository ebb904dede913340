package sla

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Explanation says why a clock's due time is what it is, as data and in
// words (String), for escalation mail and "show".
type Explanation struct {
	Metric     Metric
	Party      string // "" for the promise to the requester
	Policy     string
	Priority   string
	HasTarget  bool
	Target     Duration
	Calendar   string // Calendar.String()
	Business   bool   // business time (not 24x7)
	Started    time.Time
	Due        time.Time // zero while paused or stopped before the due time
	Met        bool
	MetAt      time.Time
	Breached   bool
	BreachedBy string
	Paused     bool
	Pauses     []Span    // each pause; To zero while still paused
	Holidays   []Holiday // closed working weekdays between the start and the due time (or now)
	Changes    []Change  // priority changes and hand-overs
	// Closed is the real time between Started and the due time (or when
	// the clock was met or stopped, or now) that did not count: nights,
	// weekends, holidays, lunch breaks, pauses, and time with other parties.
	Closed             time.Duration
	Elapsed, Remaining time.Duration // counted time, as in the Clock
}

// Explain describes clock c. Times in the result are in the zone of the
// clock's calendar.
func Explain(c *Clock) Explanation {
	loc := c.Calendar.Location()
	x := Explanation{
		Metric: c.Metric, Party: c.Party, Policy: c.Policy, Priority: c.Priority,
		HasTarget: c.HasTarget, Target: c.Target, Calendar: c.Calendar.String(),
		Business: !c.Calendar.Is24x7(), Started: c.Started.In(loc),
		Met: c.Met, Breached: c.Breached, BreachedBy: c.BreachedBy, Paused: c.Paused,
		Changes: c.Changes, Elapsed: c.Elapsed, Remaining: c.Remaining,
	}
	if !c.Due.IsZero() {
		x.Due = c.Due.In(loc)
	}
	if c.Met {
		x.MetAt = c.MetAt.In(loc)
	}
	for _, p := range c.Pauses {
		p.From = p.From.In(loc)
		if !p.To.IsZero() {
			p.To = p.To.In(loc)
		}
		x.Pauses = append(x.Pauses, p)
	}
	end := c.Now
	switch {
	case c.Met:
		end = c.MetAt
	case c.Running && !c.Due.IsZero():
		end = c.Due
	case c.Stopped && len(c.spans) > 0:
		end = c.spans[len(c.spans)-1].to
	}
	if x.Business {
		x.Holidays = c.Calendar.HolidaysBetween(c.Started, end)
	}
	var counted time.Duration
	for _, s := range c.spans {
		to := s.to
		if to.IsZero() || to.After(end) {
			to = end
		}
		if to.After(s.from) {
			counted += s.cal.Between(s.from, to)
		}
	}
	if end.After(c.Started) {
		x.Closed = end.Sub(c.Started) - counted
	}
	return x
}

const wordsLayout = "Mon 2 Jan 2006 15:04 MST"

// String says the explanation in plain English, one sentence a line.
func (x Explanation) String() string {
	var b strings.Builder
	who := "the promise to the requester"
	if x.Party != "" {
		who = fmt.Sprintf("the clock of %s while it holds the incident", x.Party)
	}
	if !x.HasTarget {
		fmt.Fprintf(&b, "No %s target for priority %s under policy %q (%s).\n", x.Metric, x.Priority, x.Policy, who)
		return b.String()
	}
	kind := "business time on calendar " + x.Calendar
	if !x.Business {
		kind = "elapsed time, around the clock (24x7)"
	}
	fmt.Fprintf(&b, "%s target for %s under policy %q (%s): %s of %s.\n",
		capital(string(x.Metric)), x.Priority, x.Policy, who, x.Target, kind)
	fmt.Fprintf(&b, "Clock started %s.\n", x.Started.Format(wordsLayout))
	type line struct {
		at   time.Time
		text string
	}
	var lines []line
	for _, c := range x.Changes {
		lines = append(lines, line{c.At, fmt.Sprintf("%s: %s.", c.At.In(x.Started.Location()).Format(wordsLayout), c.What)})
	}
	for _, p := range x.Pauses {
		note := ""
		if p.Note != "" {
			note = " (" + p.Note + ")"
		}
		if p.To.IsZero() {
			lines = append(lines, line{p.From, fmt.Sprintf("Paused since %s%s.", p.From.Format(wordsLayout), note)})
		} else {
			lines = append(lines, line{p.From, fmt.Sprintf("Paused %s to %s%s: %s not counted.", p.From.Format(wordsLayout), p.To.Format(wordsLayout), note, roundMin(p.To.Sub(p.From)))})
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	for _, l := range lines {
		b.WriteString(l.text + "\n")
	}
	if len(x.Holidays) > 0 {
		var hs []string
		for _, h := range x.Holidays {
			t := time.Date(h.Date.Year, h.Date.Month, h.Date.Day, 12, 0, 0, 0, time.UTC)
			hs = append(hs, fmt.Sprintf("%s (%s)", t.Format("Mon 2 Jan 2006"), h.Name))
		}
		fmt.Fprintf(&b, "Holidays skipped: %s.\n", strings.Join(hs, ", "))
	}
	if x.Closed > 0 {
		fmt.Fprintf(&b, "Time not counted (outside hours, holidays, pauses, with other parties): %s.\n", roundMin(x.Closed))
	}
	switch {
	case x.Breached:
		by := ""
		if x.BreachedBy != "" {
			by = ", while with " + x.BreachedBy
		}
		fmt.Fprintf(&b, "Breached at %s%s.\n", x.Due.Format(wordsLayout), by)
	case x.Met:
		fmt.Fprintf(&b, "Met at %s, due %s.\n", x.MetAt.Format(wordsLayout), x.Due.Format(wordsLayout))
	case x.Paused:
		fmt.Fprintf(&b, "Paused with %s remaining.\n", roundMin(x.Remaining))
	case x.Due.IsZero():
		fmt.Fprintf(&b, "Not counting (handed over or closed) with %s remaining.\n", roundMin(x.Remaining))
	default:
		fmt.Fprintf(&b, "Due %s (%s remaining).\n", x.Due.Format(wordsLayout), roundMin(x.Remaining))
	}
	if x.Met && x.Breached {
		fmt.Fprintf(&b, "Met late at %s.\n", x.MetAt.Format(wordsLayout))
	}
	return b.String()
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// roundMin formats d rounded to the minute: "45 min", "2 h", "29 h 30 min".
func roundMin(d time.Duration) string {
	d = d.Round(time.Minute)
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	if m > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	return sign + strings.Join(parts, " ")
}
