package config

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/helpdeskd/helpdeskd/workflow/schedule"
)

// Summary is a [[summary]] table: an accountability summary mailed on a
// schedule for the period that just ended.
type Summary struct {
	// Name identifies the summary ("weekly"): its once-only key and the
	// "summary --schedule NAME" argument.
	Name string `toml:"name"`
	// Schedule: "mon 07:30", "daily 07:30" or "month 1 08:00", on the
	// wall clock of the [helpdesk] timezone (see workflow/schedule).
	Schedule string `toml:"schedule"`
	// Period: day, week or month, the period that just ended, cut at
	// local midnight. Default week.
	Period string `toml:"period"`
	// To: who receives it.
	To []string `toml:"to"`
	// Scope: "all" (default), or a team's or provider's name: that
	// party's own scorecard.
	Scope string `toml:"scope"`
	// Attach: "none", "csv" or "xlsx": the register of the incidents
	// opened in the period. Default ["xlsx"].
	Attach []string `toml:"attach"`
	// ComplianceTarget: SLA met below this percentage is marked in the
	// matrix. Default 90.
	ComplianceTarget float64 `toml:"compliance_target"`

	Sched schedule.Schedule `toml:"-"`
}

func (c *Config) validateSummaries(v *validator) {
	seen := map[string]bool{}
	for i := range c.Summaries {
		s := &c.Summaries[i]
		n := i + 1
		label := s.Name
		if strings.TrimSpace(s.Name) == "" {
			v.addIn("summary", n, label, "name", "required: the summary's name, e.g. \"weekly\"")
		} else if seen[s.Name] {
			v.addIn("summary", n, label, "name", fmt.Sprintf("%q is used by an earlier [[summary]]", s.Name))
		}
		seen[s.Name] = true
		sc, err := schedule.Parse(s.Schedule)
		if err != nil {
			v.addIn("summary", n, label, "schedule", err.Error())
		}
		s.Sched = sc
		if s.Period == "" {
			s.Period = "week"
		}
		if err := schedule.CheckPeriod(s.Period); err != nil {
			v.addIn("summary", n, label, "period", err.Error())
		}
		if len(s.To) == 0 {
			v.addIn("summary", n, label, "to", "required: who receives the summary")
		}
		for _, a := range s.To {
			if _, err := mail.ParseAddress(a); err != nil || strings.ContainsAny(a, "\r\n") {
				v.addIn("summary", n, label, "to", fmt.Sprintf("%q is not an email address", a))
			}
		}
		if s.Scope == "" {
			s.Scope = "all"
		}
		if s.Scope != "all" {
			team, prov := c.Assignee(s.Scope)
			if team == nil && prov == nil {
				v.addIn("summary", n, label, "scope", fmt.Sprintf("%q is neither \"all\" nor a team or provider", s.Scope))
			}
		}
		if s.Attach == nil {
			s.Attach = []string{"xlsx"}
		}
		for _, a := range s.Attach {
			switch a {
			case "none", "csv", "xlsx":
			default:
				v.addIn("summary", n, label, "attach", fmt.Sprintf("%q: want none, csv or xlsx", a))
			}
		}
		if s.ComplianceTarget == 0 {
			s.ComplianceTarget = 90
		}
		if s.ComplianceTarget < 0 || s.ComplianceTarget > 100 {
			v.addIn("summary", n, label, "compliance_target", fmt.Sprintf("must be a percentage from 0 to 100, got %v", s.ComplianceTarget))
		}
	}
}

// SummaryNamed returns the [[summary]] of that name, or nil.
func (c *Config) SummaryNamed(name string) *Summary {
	for i := range c.Summaries {
		if c.Summaries[i].Name == name {
			return &c.Summaries[i]
		}
	}
	return nil
}
