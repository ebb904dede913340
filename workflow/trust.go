package workflow

import (
	"context"
	"regexp"
	"strings"
	"unicode"

	"github.com/helpdeskd/helpdeskd/config"
)

// Trust. Anyone can write any From. What an incoming message may do
// beyond joining a thread depends on whether its sender is authenticated
// (see authenticate: trusted Authentication-Results, or a DKIM signature
// verified here):
//
//   - commands run only for authenticated staff (commands.go);
//   - a reply is relayed to the other side (requester or assignee) only
//     when its sender is authenticated, so nobody can make the helpdesk
//     send his text from the company's own address;
//   - the assignee's first response stops the response clock only when
//     authenticated, and a provider's ticket numbers are learned only from
//     its authenticated mail;
//   - an unauthenticated sender never becomes a participant of an
//     incident by writing to it (unit.isParticipant);
//   - what was not done, and why, is a "flagged" event on the incident.
//
// A provider (its addresses, its reporting chain and its problem
// contact) may command only incidents assigned to it; in-house staff (team
// members, team chains and problem contacts) may command every incident.
// Only senders of the organisation's own domains ([helpdesk] domains) may
// link a new incident to a problem by naming it, and so hear its title and
// workaround.

// authenticated is authenticate for the message being processed, worked
// out once.
func (p *processing) authenticated() (bool, string) {
	if !p.authDone {
		p.authOK, p.authWhy = authenticate(p.e.Cfg, p.msg, p.in.Raw, p.e.DKIMLookup)
		p.authDone = true
	}
	return p.authOK, p.authWhy
}

// deny records something an unauthenticated message was not allowed to
// do; the reasons become one "flagged" event (see flagDenied).
func (p *processing) deny(what string) {
	p.denied = append(p.denied, what)
}

// ownDomain reports whether addr is of one of the organisation's own
// domains ([helpdesk] domains).
func ownDomain(cfg *config.Config, addr string) bool {
	d := domainOf(addr)
	for _, o := range cfg.Helpdesk.Domains {
		if d == o {
			return true
		}
	}
	return false
}

// inHouse reports whether addr is in-house staff: a team member, on a
// team's reporting chain, or a team's problem contact.
func inHouse(cfg *config.Config, addr string) bool { return directoryOf(cfg).InHouse(addr) }

// providersOf lists the providers addr speaks for: by domain or intake
// address, on the provider's chain, or as its problem contact.
func providersOf(cfg *config.Config, addr string) []string { return directoryOf(cfg).ProvidersOf(addr) }

// mayCommand says whether addr may give commands on an incident assigned
// to assignee: in-house staff always; someone who speaks only for
// providers, only on incidents assigned to one of them.
func mayCommand(cfg *config.Config, addr, assignee string) (bool, string) {
	if inHouse(cfg, addr) {
		return true, ""
	}
	provs := providersOf(cfg, addr)
	if len(provs) == 0 {
		return true, "" // not staff at all: refused earlier, for that reason
	}
	for _, pv := range provs {
		if pv == assignee {
			return true, ""
		}
	}
	to := "nobody"
	if assignee != "" {
		to = partyName(cfg, assignee) + " (" + assignee + ")"
	}
	return false, "not allowed: " + addr + " speaks for " + joinAnd(provs) + ", and this incident is assigned to " + to
}

// mayCommandThread is mayCommand for a thread: on a problem's thread,
// someone who speaks only for providers may give commands when one of the
// problem's incidents is assigned to one of them.
func (p *processing) mayCommandThread(ctx context.Context, t thread, addr string) (bool, string, error) {
	cfg := p.e.Cfg
	if t.pr == nil {
		ok, why := mayCommand(cfg, addr, t.inc.Assignee)
		return ok, why, nil
	}
	if inHouse(cfg, addr) || len(providersOf(cfg, addr)) == 0 {
		return true, "", nil
	}
	linked, err := p.u.linkedTo(ctx, t.pr)
	if err != nil {
		return false, "", err
	}
	for _, inc := range linked {
		if ok, _ := mayCommand(cfg, addr, inc.Assignee); ok {
			return true, "", nil
		}
	}
	return false, "not allowed: " + addr + " speaks for " + joinAnd(providersOf(cfg, addr)) + ", and none of " + t.pr.Key + "'s incidents is assigned to it", nil
}

// greetingName is a sender's display name fit to greet them by in an
// automatic mail ("Hello Carol Chen"), or "": a From can be forged, and
// a "name" such as "Cheap pills at http://evil.example/rx" would have the
// helpdesk deliver spam to whoever the address belongs to. A name with an
// address, a link, a domain, or more than 40 characters is left out.
func greetingName(name string) string {
	name = strings.TrimSpace(name)
	for _, r := range name {
		// Letters, marks, spaces and the punctuation of names only: no
		// invisible characters, look-alike dots, digits or symbols.
		if !(unicode.IsLetter(r) || unicode.IsMark(r) || r == ' ' || r == '-' || r == '\'' || r == '.' || r == ',') {
			return ""
		}
	}
	if name == "" || len([]rune(name)) > 40 || strings.ContainsAny(name, "@<>/\\:") || domainish.MatchString(name) {
		return ""
	}
	return name
}

var domainish = regexp.MustCompile(`(?i)[a-z0-9-]\.[a-z]{2,}`)

// exempt reports whether the sender is exempt from [helpdesk]
// new_incident_limit: listed, and authenticated (anyone can write the
// monitoring system's From).
func (p *processing) exempt() bool {
	if !containsString(p.e.Cfg.Helpdesk.NewIncidentLimitExempt, strings.ToLower(p.msg.From.Addr)) {
		return false
	}
	ok, _ := p.authenticated()
	return ok
}

// greeting is the name an acknowledgement greets the sender by: only an
// authenticated sender's (a forged From's display name is the sender's
// text, delivered to whoever the address belongs to), and only one that
// reads as a name (greetingName).
func (p *processing) greeting() string {
	if ok, _ := p.authenticated(); !ok {
		return ""
	}
	return greetingName(p.msg.From.Name)
}
