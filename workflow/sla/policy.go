package sla

import (
	"fmt"
	"strings"
	"time"
)

// Metric names a measured promise: the first response or the resolution.
type Metric string

// The metrics of a target (ITIL: response time and resolution time).
const (
	Response   Metric = "response"   // until the responsible party's first human reply
	Resolution Metric = "resolution" // until the incident is resolved
)

// Target is one promise of a policy: Metric for Priority within Within,
// counted on Calendar (the policy's calendar, or TwentyFourSeven for a
// clock = "24x7" target).
type Target struct {
	Policy   string
	Priority string
	Metric   Metric
	Within   Duration
	Calendar *Calendar
}

// Budget is the counted time of the target on its calendar.
func (t Target) Budget() time.Duration { return t.Calendar.Budget(t.Within) }

// Business reports whether the target counts business time (not 24x7).
func (t Target) Business() bool { return !t.Calendar.Is24x7() }

// Policy is an [[sla]] table: a named set of targets per priority on a
// calendar (a service level agreement with the requesters, or a
// provider's underpinning contract). Immutable once built.
type Policy struct {
	Name     string
	Calendar *Calendar
	targets  map[string]map[Metric]Target
}

// TargetSpec is one element of an [[sla]] table's targets, as strings:
// Response and Resolution are durations ("30m", "4h", "3d"; empty for no
// target of that metric), Clock is "business" (the default when empty)
// or "24x7".
type TargetSpec struct {
	Priority   string
	Response   string
	Resolution string
	Clock      string
}

// PolicySpec is an [[sla]] table, as strings.
type PolicySpec struct {
	Name     string
	Calendar string // name of a calendar in the map given to ParsePolicy
	Targets  []TargetSpec
}

// ParsePolicy builds a policy from its table. calendars maps calendar
// names to calendars. Errors name the policy, the priority and the bad
// value: an unknown calendar, a priority listed twice or empty, a bad
// duration or clock.
func ParsePolicy(s PolicySpec, calendars map[string]*Calendar) (*Policy, error) {
	c, ok := calendars[s.Calendar]
	if !ok {
		return nil, fmt.Errorf("sla %q: calendar %q: no such [[calendar]]", s.Name, s.Calendar)
	}
	p := &Policy{Name: s.Name, Calendar: c, targets: map[string]map[Metric]Target{}}
	for _, t := range s.Targets {
		prio := strings.TrimSpace(t.Priority)
		if prio == "" {
			return nil, fmt.Errorf("sla %q: a target without priority", s.Name)
		}
		if _, dup := p.targets[prio]; dup {
			return nil, fmt.Errorf("sla %q: priority %q has two targets", s.Name, prio)
		}
		tc := c
		switch strings.ToLower(strings.TrimSpace(t.Clock)) {
		case "", "business":
		case "24x7":
			tc = TwentyFourSeven(c.Location())
		default:
			return nil, fmt.Errorf("sla %q: priority %s: clock %q: want \"business\" or \"24x7\"", s.Name, prio, t.Clock)
		}
		m := map[Metric]Target{}
		for _, x := range []struct {
			metric Metric
			v      string
		}{{Response, t.Response}, {Resolution, t.Resolution}} {
			if strings.TrimSpace(x.v) == "" {
				continue
			}
			d, err := ParseDuration(x.v)
			if err != nil {
				return nil, fmt.Errorf("sla %q: priority %s: %s: %w", s.Name, prio, x.metric, err)
			}
			m[x.metric] = Target{Policy: s.Name, Priority: prio, Metric: x.metric, Within: d, Calendar: tc}
		}
		p.targets[prio] = m
	}
	return p, nil
}

// NewPolicy builds a policy from targets already parsed (each target's
// Policy is set to name). A priority-metric pair given twice is an error.
func NewPolicy(name string, calendar *Calendar, targets []Target) (*Policy, error) {
	p := &Policy{Name: name, Calendar: calendar, targets: map[string]map[Metric]Target{}}
	for _, t := range targets {
		if t.Calendar == nil {
			t.Calendar = calendar
		}
		if t.Calendar == nil {
			return nil, fmt.Errorf("sla %q: priority %s %s: no calendar", name, t.Priority, t.Metric)
		}
		t.Policy = name
		if p.targets[t.Priority] == nil {
			p.targets[t.Priority] = map[Metric]Target{}
		}
		if _, dup := p.targets[t.Priority][t.Metric]; dup {
			return nil, fmt.Errorf("sla %q: priority %s %s given twice", name, t.Priority, t.Metric)
		}
		p.targets[t.Priority][t.Metric] = t
	}
	return p, nil
}

// Target returns the policy's target for a priority and metric; false when
// the policy has none (that priority has no clock for the metric).
func (p *Policy) Target(priority string, m Metric) (Target, bool) {
	if p == nil {
		return Target{}, false
	}
	t, ok := p.targets[priority][m]
	return t, ok
}
