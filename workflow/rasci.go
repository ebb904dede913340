package workflow

import (
	"github.com/helpdeskd/helpdeskd/config"
)

// RASCIRow says who answers for one category of incident (a route, or
// what no route matches), from the configuration, in the RASCI terms of
// ITIL's responsibility matrix:
//
//   - Responsible does the work: the team or provider the route assigns.
//   - Accountable receives the escalations of its breaches: the
//     responsible party's reporting chain, level 1 first.
//   - Supporting helps the responsible party: the in-house default team,
//     when the work sits with a provider (it holds the relationship).
//   - Consulted is asked about the causes of repeats: the responsible
//     party's problem contact.
//   - Informed hears of each new incident: the route's informed.
type RASCIRow struct {
	Category    string   `json:"category"`
	Route       string   `json:"route"` // "" for what no route matches
	Responsible string   `json:"responsible"`
	SLA         string   `json:"sla"` // the responsible party's policy
	Accountable []string `json:"accountable"`
	Supporting  []string `json:"supporting"`
	Consulted   []string `json:"consulted"`
	Informed    []string `json:"informed"`
}

// RASCI is the responsibility matrix of a configuration: a row per route,
// then one for what no route matches (when there is a default assignee).
func RASCI(cfg *config.Config) []RASCIRow {
	row := func(category, route, party string, informed []string) RASCIRow {
		r := RASCIRow{Category: category, Route: route, Responsible: party,
			Accountable: []string{}, Supporting: []string{}, Consulted: []string{}, Informed: nonNil(informed)}
		dir := directoryOf(cfg)
		pt := dir.Party(party)
		if pt == nil {
			return r
		}
		r.Accountable = nonNil(pt.Chain)
		if pt.Policy != nil {
			r.SLA = pt.Policy.Name
		}
		if c := consulted(cfg, party); c != "" {
			r.Consulted = []string{c}
		}
		if d := cfg.Routing.DefaultAssignee; pt.Kind == Provider && d != "" && d != party {
			if dp := dir.Party(d); dp != nil && dp.Kind == Team {
				r.Supporting = []string{d}
			}
		}
		return r
	}
	var out []RASCIRow
	for _, rt := range cfg.Routes {
		cat := rt.Category
		if cat == "" {
			cat = rt.Name
		}
		out = append(out, row(cat, rt.Name, rt.Assign, rt.Informed))
	}
	if d := cfg.Routing.DefaultAssignee; d != "" {
		out = append(out, row("(anything else)", "", d, nil))
	}
	return out
}
