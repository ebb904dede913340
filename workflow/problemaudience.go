package workflow

import (
	"context"
	"strings"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/store"
)

// audience is one address that hears of a problem, and what it may see.
type audience struct {
	contact string
	// provider: "" when the contact hears of all the problem's
	// incidents (a team's); else the provider whose incidents alone it
	// hears of (the rest are the in-house teams' business: their
	// requesters, subjects and count).
	provider string
}

// sees reports whether a hears of incident l.
func (a audience) sees(l *store.Incident) bool {
	return a.provider == "" || l.Assignee == a.provider
}

// problemAudience is who hears of a problem whose incidents are linked:
// the consulted address (problem contact, else level 1 of the chain) of
// each party holding one of them, in the order of the incidents; an
// incident held by nobody is the default assignee's. unheard names the
// parties with no one to tell. Computed from the configuration in force,
// so that a changed problem contact hears of the next occurrence.
func problemAudience(cfg *config.Config, linked []store.Incident) (out []audience, unheard []string) {
	dir := directoryOf(cfg)
	at := map[string]int{}
	seen := map[string]bool{}
	for _, l := range linked {
		party := l.Assignee
		if party == "" {
			party = cfg.Routing.DefaultAssignee
		}
		if seen[party] {
			continue
		}
		seen[party] = true
		pt := dir.Party(party)
		contact := strings.ToLower(consulted(cfg, party))
		if pt == nil || contact == "" {
			unheard = append(unheard, orNobody(party))
			continue
		}
		a := audience{contact: contact}
		if pt.Kind == Provider {
			a.provider = pt.Name
		}
		if i, ok := at[contact]; ok {
			if out[i].provider != a.provider {
				out[i].provider = "" // one address for a team and a provider: it hears of all
			}
			continue
		}
		at[contact] = len(out)
		out = append(out, a)
	}
	return out, unheard
}

// problemTold is the set of addresses that have had a notice or digest
// of pr (stored, or queued by this unit).
func (u *unit) problemTold(ctx context.Context, pr *store.Problem) (map[string]bool, error) {
	if t, ok := u.told[pr]; ok {
		return t, nil
	}
	t := map[string]bool{}
	if pr.ID != 0 {
		mails, err := u.tx.ProblemOutbox(ctx, pr.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range mails {
			if m.Kind == "problem_notice" || m.Kind == "problem_digest" {
				t[strings.ToLower(m.ToAddrs)] = true
			}
		}
	}
	if u.told == nil {
		u.told = map[*store.Problem]map[string]bool{}
	}
	u.told[pr] = t
	return t, nil
}
