package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/workflow/sla"
)

// Calendar is a [[calendar]] table: the business hours an SLA target is
// counted in.
type Calendar struct {
	Name     string   `toml:"name"`
	Timezone string   `toml:"timezone"` // IANA name; never a UTC offset
	Days     []string `toml:"days"`     // "mon" … "sun"
	Hours    []string `toml:"hours"`    // "08:30-12:30"; several a day
	Holidays []string `toml:"holidays"` // "2026-12-25"
	// HolidayCountry adds that country's public holidays (ISO 3166
	// code, e.g. "gb", "de") from a maintained library.
	HolidayCountry string `toml:"holiday_country"`

	Cal *sla.Calendar `toml:"-"`
}

// SLATarget is one priority's promise in an [[sla]] policy: a first
// response and a resolution within durations counted on a clock.
type SLATarget struct {
	Priority   string `toml:"priority"`
	Response   string `toml:"response"`   // "30m", "4h", "1d"; empty: no response target
	Resolution string `toml:"resolution"` // empty: no resolution target
	// Clock is "business" (the policy's calendar; the default) or
	// "24x7" (elapsed time).
	Clock string `toml:"clock"`

	ResponseDur, ResolutionDur sla.Duration `toml:"-"`
	HasResponse, HasResolution bool         `toml:"-"`
}

// SLA is an [[sla]] policy: our promise to employees, or a provider's
// contract (an underpinning contract, in ITIL's words).
type SLA struct {
	Name     string      `toml:"name"`
	Calendar string      `toml:"calendar"`
	Targets  []SLATarget `toml:"targets"`

	Cal *sla.Calendar `toml:"-"`
	// Pol is the policy built for the clocks.
	Pol *sla.Policy `toml:"-"`
}

// Target returns the policy's target for a priority, or nil: a priority
// without a target has no clock.
func (s *SLA) Target(priority string) *SLATarget {
	for i := range s.Targets {
		if s.Targets[i].Priority == priority {
			return &s.Targets[i]
		}
	}
	return nil
}

// CalendarOf is the calendar a target is counted on.
func (s *SLA) CalendarOf(t *SLATarget) *sla.Calendar {
	if t.Clock == "24x7" || s.Cal == nil {
		loc := time.UTC
		if s.Cal != nil {
			loc = s.Cal.Location()
		}
		return sla.TwentyFourSeven(loc)
	}
	return s.Cal
}

// PriorityRule raises a new incident's priority when its words appear, as
// a route sets it.
type PriorityRule struct {
	Priority string   `toml:"priority"`
	Keywords []string `toml:"keywords"`
}

// Escalation says when a target's breach reaches the reporting chain.
type Escalation struct {
	// WarnAt: at this fraction of a target the responsible party is
	// warned. Default 0.8; 0 < warn_at < 1.
	WarnAt float64 `toml:"warn_at"`
	// Levels: level 1 of the chain at breach plus Levels[0], level 2 at
	// breach plus Levels[1], … Default ["0m", "4h", "1d"].
	Levels []string `toml:"levels"`
	// Repeat: the highest level reached is reminded this often until
	// the breach is acknowledged or the incident resolved. Default "1d".
	Repeat string `toml:"repeat"`

	LevelDurs []sla.Duration `toml:"-"`
	RepeatDur sla.Duration   `toml:"-"`
	// Rules is the table built for the clocks.
	Rules sla.Escalation `toml:"-"`
}

// Policy returns the SLA policy of a team or provider: the one it names,
// else the first [[sla]]; nil when there is none.
func (c *Config) Policy(assignee string) *SLA {
	if len(c.SLAs) == 0 {
		return nil
	}
	name := ""
	if team, prov := c.Assignee(assignee); team != nil {
		name = team.SLA
	} else if prov != nil {
		name = prov.SLA
	}
	for i := range c.SLAs {
		if c.SLAs[i].Name == name {
			return &c.SLAs[i]
		}
	}
	return &c.SLAs[0]
}

// PolicyNamed returns the built policy of the [[sla]] of that name; nil
// when there is none.
func (c *Config) PolicyNamed(name string) *sla.Policy {
	for i := range c.SLAs {
		if c.SLAs[i].Name == name {
			return c.SLAs[i].Pol
		}
	}
	return nil
}

// Chain returns the reporting chain of a team or provider.
func (c *Config) Chain(assignee string) []string {
	if team, prov := c.Assignee(assignee); team != nil {
		return team.Chain
	} else if prov != nil {
		return prov.Chain
	}
	return nil
}

func (c *Config) validateSLA(v *validator) {
	cals := map[string]*sla.Calendar{}
	broken := map[string]bool{} // named, but in error already
	for i := range c.Calendars {
		cl := &c.Calendars[i]
		if cl.Name == "" {
			v.addIn("calendar", i+1, "", "name", "required")
			continue
		}
		if cals[cl.Name] != nil {
			v.addIn("calendar", i+1, cl.Name, "name", "another [[calendar]] has this name")
			continue
		}
		cal, err := sla.ParseCalendar(sla.CalendarSpec{Name: cl.Name, Timezone: cl.Timezone, Days: cl.Days, Hours: cl.Hours,
			Holidays: cl.Holidays, HolidayCountry: cl.HolidayCountry})
		if err != nil {
			field := calendarField(err.Error())
			msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("calendar %q: ", cl.Name))
			v.addIn("calendar", i+1, cl.Name, field, strings.TrimPrefix(msg, field+": "))
			broken[cl.Name] = true
			continue
		}
		cl.Cal, cals[cl.Name] = cal, cal
	}
	policies := map[string]bool{}
	for i := range c.SLAs {
		s := &c.SLAs[i]
		if s.Name == "" {
			v.addIn("sla", i+1, "", "name", "required")
		} else if policies[s.Name] {
			v.addIn("sla", i+1, s.Name, "name", "another [[sla]] has this name")
		}
		policies[s.Name] = true
		switch {
		case s.Calendar != "" && broken[s.Calendar]:
		case s.Calendar != "" && cals[s.Calendar] == nil:
			v.addIn("sla", i+1, s.Name, "calendar", fmt.Sprintf("%q is not the name of a [[calendar]]", s.Calendar))
		case s.Calendar != "":
			s.Cal = cals[s.Calendar]
		case len(c.Calendars) > 0:
			s.Cal = c.Calendars[0].Cal
		}
		if len(s.Targets) == 0 {
			v.addIn("sla", i+1, s.Name, "targets", "required: at least one { priority, response, resolution }")
		}
		seen := map[string]bool{}
		for j := range s.Targets {
			t := &s.Targets[j]
			if !priorityRe.MatchString(t.Priority) {
				v.addTarget(i+1, s.Name, j+1, fmt.Sprintf("target %d: priority must be P1-P5, got %q", j+1, t.Priority))
			} else if seen[t.Priority] {
				v.addTarget(i+1, s.Name, j+1, fmt.Sprintf("two targets for %s", t.Priority))
			}
			seen[t.Priority] = true
			switch t.Clock {
			case "":
				t.Clock = "business"
			case "business", "24x7":
			default:
				v.addTarget(i+1, s.Name, j+1, fmt.Sprintf("%s: clock must be \"business\" or \"24x7\", got %q", t.Priority, t.Clock))
			}
			if t.Clock == "business" && s.Cal == nil && len(c.Calendars) == 0 && !broken[s.Calendar] {
				v.addIn("sla", i+1, s.Name, "calendar", fmt.Sprintf("%s counts business time, and there is no [[calendar]]: add one, or clock = \"24x7\"", t.Priority))
			}
			for _, d := range []struct {
				name string
				s    string
				dur  *sla.Duration
				has  *bool
			}{{"response", t.Response, &t.ResponseDur, &t.HasResponse}, {"resolution", t.Resolution, &t.ResolutionDur, &t.HasResolution}} {
				if d.s == "" {
					continue
				}
				pd, err := sla.ParseDuration(d.s)
				if err != nil {
					v.addTarget(i+1, s.Name, j+1, fmt.Sprintf("%s %s: %v", t.Priority, d.name, err))
					continue
				}
				if pd.IsZero() {
					v.addTarget(i+1, s.Name, j+1, fmt.Sprintf("%s %s: must be more than 0", t.Priority, d.name))
					continue
				}
				*d.dur, *d.has = pd, true
			}
			if !t.HasResponse && !t.HasResolution && t.Response == "" && t.Resolution == "" {
				v.addTarget(i+1, s.Name, j+1, fmt.Sprintf("%s: a target needs response, resolution or both", t.Priority))
			}
			// A day is a business day of the target's calendar (its open
			// hours): compared as counted time on that calendar.
			cal := s.CalendarOf(t)
			sooner := sameTerms(t.ResponseDur, t.ResolutionDur) && less(t.ResolutionDur, t.ResponseDur)
			if cal != nil {
				sooner = cal.Budget(t.ResolutionDur) < cal.Budget(t.ResponseDur)
			}
			if t.HasResponse && t.HasResolution && sooner {
				v.addTarget(i+1, s.Name, j+1, fmt.Sprintf("%s: resolution %s is sooner than response %s: an incident cannot be resolved before it is answered", t.Priority, t.Resolution, t.Response))
			}
		}
		var targets []sla.Target
		for j := range s.Targets {
			t := &s.Targets[j]
			cal := s.CalendarOf(t)
			if t.HasResponse {
				targets = append(targets, sla.Target{Priority: t.Priority, Metric: sla.Response, Within: t.ResponseDur, Calendar: cal})
			}
			if t.HasResolution {
				targets = append(targets, sla.Target{Priority: t.Priority, Metric: sla.Resolution, Within: t.ResolutionDur, Calendar: cal})
			}
		}
		if pol, err := sla.NewPolicy(s.Name, s.Cal, targets); err == nil {
			s.Pol = pol
		} else if len(v.errs) == 0 {
			v.addIn("sla", i+1, s.Name, "targets", err.Error())
		}
	}
	for i := range c.Teams {
		if n := c.Teams[i].SLA; n != "" && !policies[n] {
			v.addIn("team", i+1, c.Teams[i].Name, "sla", fmt.Sprintf("%q is not the name of an [[sla]]", n))
		}
	}
	for i := range c.Providers {
		if n := c.Providers[i].SLA; n != "" && !policies[n] {
			v.addIn("provider", i+1, c.Providers[i].Name, "sla", fmt.Sprintf("%q is not the name of an [[sla]]", n))
		}
	}
	for i := range c.PriorityRules {
		r := &c.PriorityRules[i]
		if !priorityRe.MatchString(r.Priority) {
			v.addIn("priority_rule", i+1, "", "priority", fmt.Sprintf("must be P1-P5, got %q", r.Priority))
		}
		if len(r.Keywords) == 0 {
			v.addIn("priority_rule", i+1, "", "keywords", "required: the words that raise the priority")
		}
		for j, k := range r.Keywords {
			if strings.TrimSpace(k) == "" {
				v.addIn("priority_rule", i+1, "", "keywords", "empty keyword")
			}
			r.Keywords[j] = strings.ToLower(strings.TrimSpace(k))
		}
	}
	e := &c.Escalation
	if e.WarnAt == 0 {
		e.WarnAt = 0.8
	}
	if e.WarnAt <= 0 || e.WarnAt >= 1 {
		v.add(key("escalation", "warn_at"), fmt.Sprintf("must be more than 0 and less than 1, got %v", e.WarnAt))
	}
	if e.Levels == nil {
		e.Levels = []string{"0m", "4h", "1d"}
	}
	if len(e.Levels) == 0 {
		v.add(key("escalation", "levels"), "needs at least one level (\"0m\": level 1 at breach)")
	}
	var prev *sla.Duration
	for _, l := range e.Levels {
		d, err := sla.ParseDuration(l)
		if err != nil {
			v.add(key("escalation", "levels"), err.Error())
			continue
		}
		if prev != nil && (d.Days < prev.Days || d.Days == prev.Days && d.Clock < prev.Clock) {
			v.add(key("escalation", "levels"), fmt.Sprintf("levels must not decrease: %s after %s", l, prev))
		}
		e.LevelDurs = append(e.LevelDurs, d)
		prev = &e.LevelDurs[len(e.LevelDurs)-1]
	}
	if e.Repeat == "" {
		e.Repeat = "1d"
	}
	if d, err := sla.ParseDuration(e.Repeat); err != nil {
		v.add(key("escalation", "repeat"), err.Error())
	} else if d.IsZero() {
		v.add(key("escalation", "repeat"), "must be more than 0")
	} else {
		e.RepeatDur = d
	}
	e.Rules = sla.Escalation{WarnAt: e.WarnAt, Levels: e.LevelDurs, Repeat: e.RepeatDur}
}

// calendarField guesses the key a calendar error is about from its text.
func calendarField(msg string) string {
	switch {
	case strings.Contains(msg, "no working days"), strings.Contains(msg, "weekday"):
		return "days"
	case strings.Contains(msg, "no hours"), strings.Contains(msg, "overlap"):
		return "hours"
	}
	for _, k := range []string{"timezone", "days", "hours", "holidays", "holiday_country"} {
		if strings.Contains(msg, ": "+k) || strings.Contains(msg, k+" ") {
			return k
		}
	}
	return "name"
}

// addTarget records an error in the jth target of the nth [[sla]], on
// that target's own line.
func (v *validator) addTarget(n int, label string, j int, msg string) {
	name := fmt.Sprintf("[[sla]] #%d targets", n)
	if label != "" {
		name = fmt.Sprintf("[[sla]] %q targets", label)
	}
	v.errs = append(v.errs, &Error{File: v.file, Line: v.lines.findTarget(n, j), Key: name, Msg: msg})
}

// sameTerms reports whether two durations count the same kind of time:
// both in whole days, or both in hours and minutes.
func sameTerms(a, b sla.Duration) bool {
	return (a.Clock == 0 && b.Clock == 0) || (a.Days == 0 && b.Days == 0)
}

// less reports whether a is shorter than b, for durations in the same terms.
func less(a, b sla.Duration) bool {
	return a.Days < b.Days || (a.Days == b.Days && a.Clock < b.Clock)
}
