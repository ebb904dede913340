package config

import (
	"fmt"
	"strings"

	"github.com/helpdeskd/helpdeskd/workflow/majorreport"
	"github.com/helpdeskd/helpdeskd/workflow/sla"
)

// Major is the [major] table: which incidents are major incidents and
// the report (ITIL: major incident review) owed for each after its
// resolution.
type Major struct {
	// Priorities: incidents of these priorities are major from the moment
	// they have one (route, [[priority_rule]], "#priority"); staff also
	// declare one with "#major". Default ["P1"]; [] for none by priority.
	Priorities []string `toml:"priorities"`
	// ReportDue: the report is due this long after the resolution,
	// counted on the responsible party's calendar (its SLA policy's).
	// Default "5d".
	ReportDue string `toml:"report_due"`
	// RemindEvery: the responsible party is reminded this often until
	// the report is received. Default "2d".
	RemindEvery string `toml:"remind_every"`
	// Sections are the report's required sections. Default ["what
	// happened", "cause", "fix", "prevention"].
	Sections []string `toml:"sections"`

	ReportDueDur   sla.Duration `toml:"-"`
	RemindEveryDur sla.Duration `toml:"-"`
}

// IsMajorPriority reports whether incidents of priority p are major.
func (m *Major) IsMajorPriority(p string) bool {
	for _, x := range m.Priorities {
		if strings.EqualFold(x, p) {
			return true
		}
	}
	return false
}

func (c *Config) validateMajor(v *validator) {
	m := &c.Major
	if m.Priorities == nil {
		m.Priorities = []string{"P1"}
	}
	for i, p := range m.Priorities {
		up := strings.ToUpper(strings.TrimSpace(p))
		if len(up) != 2 || up[0] != 'P' || up[1] < '1' || up[1] > '5' {
			v.add(key("major", "priorities"), fmt.Sprintf("%q is not a priority (want P1 to P5)", p))
		}
		m.Priorities[i] = up
	}
	dur := func(field string, s *string, def string, out *sla.Duration) {
		if *s == "" {
			*s = def
		}
		d, err := sla.ParseDuration(*s)
		switch {
		case err != nil:
			v.add(key("major", field), err.Error())
		case d.IsZero():
			v.add(key("major", field), "must be more than 0")
		default:
			*out = d
		}
	}
	dur("report_due", &m.ReportDue, "5d", &m.ReportDueDur)
	dur("remind_every", &m.RemindEvery, "2d", &m.RemindEveryDur)
	if m.Sections == nil {
		m.Sections = append([]string(nil), majorreport.DefaultSections...)
	}
	if len(m.Sections) == 0 {
		v.add(key("major", "sections"), "needs at least one section (default: \"what happened\", \"cause\", \"fix\", \"prevention\")")
	}
	seen := map[string]bool{}
	for i, s := range m.Sections {
		t := strings.ToLower(strings.Join(strings.Fields(s), " "))
		switch {
		case t == "":
			v.add(key("major", "sections"), "empty section name")
		case seen[t]:
			v.add(key("major", "sections"), fmt.Sprintf("section %q listed twice", s))
		}
		seen[t] = true
		m.Sections[i] = t
	}
}
