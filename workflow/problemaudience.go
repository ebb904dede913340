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
	// providers: nil when the contact hears of all the problem's
	// incidents (a team's); else the providers whose incidents alone it
	// hears of (the rest are the in-house teams' and the other
	// providers' business: their requesters, subjects and count).
	providers map[string]bool
}

// sees reports whether a hears of incident l.
func (a audience) sees(l *store.Incident) bool {
	return a.providers == nil || a.providers[l.Assignee]
}

// title is the problem's title as a reads it: the problem's own for an
// address that sees all its incidents, else the subject of the plainest
// incident it sees (the title may be another party's subject).
func (a audience) title(pr *store.Problem, linked []store.Incident) string {
	if a.providers == nil {
		return pr.Title
	}
	best, words := "", 0
	for i := range linked {
		l := &linked[i]
		if !a.sees(l) {
			continue
		}
		if n := len(strings.Fields(l.Fingerprint)); best == "" || n < words {
			best, words = l.Subject, n
		}
	}
	return best
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
			a.providers = map[string]bool{pt.Name: true}
		}
		if i, ok := at[contact]; ok {
			switch {
			case out[i].providers == nil:
			case a.providers == nil:
				out[i].providers = nil // one address for a team and a provider: it hears of all
			default:
				out[i].providers[pt.Name] = true // one address for two providers: of both
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
