package config

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// Team is an in-house group that fixes things; its members get the
// incidents routed to it.
type Team struct {
	Name string `toml:"name"`
	// DisplayName is how mail to employees names the team ("IT team");
	// default: "IT team" for a name of two or three letters, else the
	// name capitalised followed by " team".
	DisplayName string   `toml:"display_name"`
	Members     []string `toml:"members"`
	// Chain is the reporting chain (team lead, manager, director): staff
	// whose commands are believed, and whom SLA breaches escalate to.
	Chain []string `toml:"chain"`
	// ProblemContact is who hears of repeat problems in this team's
	// incidents (problem management).
	ProblemContact string `toml:"problem_contact"`
	// Relay: members' replies (other than #note) are relayed to the
	// requester. Default true. The requester's replies reach the members
	// whatever it says: otherwise nobody would read them.
	Relay *bool `toml:"relay"`
	// SLA names the [[sla]] policy the team is measured by; default the
	// first.
	SLA string `toml:"sla"`
}

// Relays reports whether the team's replies reach the requester
// (relay, default true).
func (t *Team) Relays() bool { return t.Relay == nil || *t.Relay }

// Label is the name employees see: display_name, or one made from the
// name ("it" → "IT team", "network" → "Network team").
func (t *Team) Label() string {
	if t.DisplayName != "" {
		return t.DisplayName
	}
	if n := len(t.Name); n >= 2 && n <= 3 {
		return strings.ToUpper(t.Name) + " team"
	}
	return capitalise(t.Name) + " team"
}

// Relays reports whether the provider's replies reach the requester
// (relay, default true).
func (p *Provider) Relays() bool { return p.Relay == nil || *p.Relay }

// Label is the name employees see: display_name, or the name
// capitalised ("acme" → "Acme").
func (p *Provider) Label() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return capitalise(p.Name)
}

func capitalise(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}

// DisplayName is the name employees see for a team or provider (its
// Label); name itself when it is neither.
func (c *Config) DisplayName(name string) string {
	team, prov := c.Assignee(name)
	switch {
	case team != nil:
		return team.Label()
	case prov != nil:
		return prov.Label()
	}
	return name
}

// Provider is an external IT provider. Incidents routed to it are sent to
// its intake address; mail from its domains is the provider's.
type Provider struct {
	Name string `toml:"name"`
	// DisplayName is how mail to employees names the provider; default:
	// the name capitalised.
	DisplayName string   `toml:"display_name"`
	Domains     []string `toml:"domains"`
	Intake      string   `toml:"intake"`
	// Chain is the provider's reporting chain (account manager, then our
	// IT manager): staff whose commands are believed.
	Chain []string `toml:"chain"`
	// ProblemContact is who at the provider hears of repeat problems in
	// its incidents (problem management).
	ProblemContact string `toml:"problem_contact"`
	// TicketPattern matches the provider's own ticket numbers in a
	// subject ("ACME-\\d+"). Learned from its first reply that carries
	// both our tag and its number, a number then threads replies that
	// carry only it.
	TicketPattern string `toml:"ticket_pattern"`

	// Relay: the provider's replies are relayed to the requester (from
	// the helpdesk address: the requester does not see the provider's
	// addresses). Default true. The requester's replies reach the
	// provider's intake whatever it says.
	Relay *bool `toml:"relay"`
	// SLA names the [[sla]] policy of the provider's contract; default
	// the first.
	SLA string `toml:"sla"`

	// TicketRe is TicketPattern, compiled.
	TicketRe *regexp.Regexp `toml:"-"`
}

// Route sends matching new incidents to a team or provider. Routes are
// tried in order; the first match wins.
type Route struct {
	Name string `toml:"name"`
	// Keywords match whole words of the subject or of the first lines of
	// the new text, ignoring case.
	Keywords []string `toml:"keywords"`
	// FromDomains, if set, limits the route to senders of these domains.
	FromDomains []string `toml:"from_domains"`
	Assign      string   `toml:"assign"`
	Category    string   `toml:"category"`
	Priority    string   `toml:"priority"`
	// Informed people (RASCI "informed") get a short notice of each new
	// incident the route matches.
	Informed []string `toml:"informed"`
}

// Commands says whose commands by email (#resolve, #priority P1, …) are
// believed. A command runs only when its sender is staff (a team member
// or a provider address) and the message is authenticated.
type Commands struct {
	// TrustedAuthservIDs are the authserv-ids of Authentication-Results
	// headers written by our own MTA; headers from any other id are
	// ignored (anyone can write one).
	TrustedAuthservIDs []string `toml:"trusted_authserv_ids"`
	// VerifyDKIM checks DKIM signatures here (DNS lookups), for mail that
	// no trusted Authentication-Results vouches for.
	VerifyDKIM bool `toml:"verify_dkim"`
	// BorderReceived is the position, counted from the top of the header
	// (1 = the first field named Received), of the Received field our
	// border MTA writes when a message enters from outside. Only the
	// Authentication-Results fields above it are our own servers'
	// (RFC 8601 §5: each server prepends its fields); those below it came
	// with the message and are never believed. Default 1: one border MTA
	// that runs the milters (Postfix with OpenDKIM/OpenDMARC write their
	// fields above Postfix's Received) and hands the mail to the
	// helpdesk's mailbox without a Received of its own. Add one for each
	// own server that writes a Received above it (Dovecot LMTP does).
	// A Config built in code with 0 is read as 1. Valid: 1-20.
	BorderReceived int `toml:"border_received"`
	// BorderHosts are the names the border MTA writes after "by" in its
	// Received field. That field must name one of them, or nothing above
	// it is trusted: a sender cannot push the border down by writing a
	// Received of his own. Default: trusted_authserv_ids (an MTA's
	// authserv-id is usually its host name).
	BorderHosts []string `toml:"border_hosts"`
}

// MaxBorderReceived bounds [commands] border_received.
const MaxBorderReceived = 20

// Routing holds what applies when no route matches, and what goes with
// the mail the helpdesk forwards.
type Routing struct {
	DefaultAssignee string `toml:"default_assignee"`
	// ForwardAttachmentsMax: the attachments of a mail are forwarded with
	// it (notices, relays) while their decoded sizes add up to at most
	// this many bytes; the rest are listed by name only. "10MB" (SI) or
	// "10MiB" or a number of bytes; default 10MB; 0 forwards none.
	ForwardAttachmentsMax ByteSize `toml:"forward_attachments_max"`
}

// ByteSize is a number of bytes, written as an integer or as a string
// with a unit ("10MB" = 10,000,000; "10MiB" = 10,485,760), parsed by
// github.com/dustin/go-humanize.
type ByteSize struct {
	Bytes int64
	Set   bool // given in the file (0 is a value)
}

// UnmarshalTOML implements toml.Unmarshaler.
func (b *ByteSize) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return fmt.Errorf("must not be negative, got %d", x)
		}
		b.Bytes, b.Set = x, true
	case string:
		n, err := humanize.ParseBytes(x)
		if err != nil {
			return fmt.Errorf("not a size such as \"10MB\" or \"512KiB\": %q", x)
		}
		if n > 1<<62 {
			return fmt.Errorf("too large: %q", x)
		}
		b.Bytes, b.Set = int64(n), true
	default:
		return fmt.Errorf("want a size such as \"10MB\" or a number of bytes, got %T", v)
	}
	return nil
}

// RelayTo is where the requester's replies to an incident assigned to
// name go: a team's members or a provider's intake (whatever relay
// says, so that a follow-up always reaches whoever works on it); nil
// when name is neither.
func (c *Config) RelayTo(name string) []string {
	team, prov := c.Assignee(name)
	switch {
	case team != nil:
		return team.Members
	case prov != nil:
		return []string{prov.Intake}
	}
	return nil
}

// RelaysToRequester reports whether the replies of name's people reach
// the requester (relay, default true).
func (c *Config) RelaysToRequester(name string) bool {
	team, prov := c.Assignee(name)
	switch {
	case team != nil:
		return team.Relays()
	case prov != nil:
		return prov.Relays()
	}
	return false
}

// Assignee finds a team or provider by name.
func (c *Config) Assignee(name string) (team *Team, provider *Provider) {
	for i := range c.Teams {
		if c.Teams[i].Name == name {
			return &c.Teams[i], nil
		}
	}
	for i := range c.Providers {
		if c.Providers[i].Name == name {
			return nil, &c.Providers[i]
		}
	}
	return nil, nil
}

// validateRouting checks [[team]], [[provider]], [[route]] and [routing],
// normalizing addresses and domains to lower case.
func (c *Config) validateRouting(v *validator) {
	if n := c.Commands.BorderReceived; n < 1 || n > MaxBorderReceived {
		v.add(key("commands", "border_received"), fmt.Sprintf("must be 1-%d (the border MTA's Received field, counted from the top of the header), got %d", MaxBorderReceived, n))
	}
	for i, h := range c.Commands.BorderHosts {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		if h == "" || strings.ContainsAny(h, " @;()") {
			v.add(key("commands", "border_hosts"), fmt.Sprintf("not a host name: %q", c.Commands.BorderHosts[i]))
		}
		c.Commands.BorderHosts[i] = h
	}
	names := map[string]string{}
	addrs := func(table string, n int, label, field string, list []string, required bool) {
		if required && len(list) == 0 {
			v.addIn(table, n, label, field, "required: at least one address")
		}
		for i, a := range list {
			p, err := mail.ParseAddress(a)
			if err != nil || p.Name != "" {
				v.addIn(table, n, label, field, fmt.Sprintf("not a plain email address: %q", a))
				continue
			}
			list[i] = strings.ToLower(p.Address)
		}
	}
	name := func(table string, n int, nm string) {
		switch {
		case nm == "":
			v.addIn(table, n, "", "name", "required")
		case names[nm] != "":
			v.addIn(table, n, nm, "name", fmt.Sprintf("%q is already the name of a %s: team and provider names must be unique", nm, names[nm]))
		default:
			names[nm] = table
		}
	}
	for i := range c.Teams {
		t := &c.Teams[i]
		name("team", i+1, t.Name)
		addrs("team", i+1, t.Name, "members", t.Members, true)
		addrs("team", i+1, t.Name, "chain", t.Chain, false)
		t.ProblemContact = oneAddr(v, "team", i+1, t.Name, t.ProblemContact)
	}
	for i := range c.Providers {
		p := &c.Providers[i]
		name("provider", i+1, p.Name)
		one := []string{p.Intake}
		if p.Intake == "" {
			v.addIn("provider", i+1, p.Name, "intake", "required: where incidents are sent")
		} else {
			addrs("provider", i+1, p.Name, "intake", one, true)
			p.Intake = one[0]
		}
		if p.TicketPattern != "" {
			re, err := regexp.Compile(p.TicketPattern)
			switch {
			case err != nil:
				v.addIn("provider", i+1, p.Name, "ticket_pattern", fmt.Sprintf("not a regular expression: %v", err))
			case re.MatchString(""):
				v.addIn("provider", i+1, p.Name, "ticket_pattern", fmt.Sprintf("%q matches an empty string: it would match every subject", p.TicketPattern))
			default:
				p.TicketRe = re
			}
		}
		addrs("provider", i+1, p.Name, "chain", p.Chain, false)
		p.ProblemContact = oneAddr(v, "provider", i+1, p.Name, p.ProblemContact)
		for j, d := range p.Domains {
			d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
			if !strings.Contains(d, ".") || strings.ContainsAny(d, " @") {
				v.addIn("provider", i+1, p.Name, "domains", fmt.Sprintf("not a domain: %q", p.Domains[j]))
			}
			p.Domains[j] = d
		}
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		if r.Name == "" {
			v.addIn("route", i+1, "", "name", "required")
		}
		if len(r.Keywords) == 0 && len(r.FromDomains) == 0 {
			v.addIn("route", i+1, r.Name, "keywords", "a route needs keywords, from_domains or both")
		}
		for j, k := range r.Keywords {
			if strings.TrimSpace(k) == "" {
				v.addIn("route", i+1, r.Name, "keywords", "empty keyword")
			}
			r.Keywords[j] = strings.ToLower(strings.TrimSpace(k))
		}
		for j, d := range r.FromDomains {
			r.FromDomains[j] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		}
		if r.Assign == "" {
			v.addIn("route", i+1, r.Name, "assign", "required: a team or provider name")
		} else if _, ok := names[r.Assign]; !ok {
			v.addIn("route", i+1, r.Name, "assign", fmt.Sprintf("%q is not the name of a team or provider", r.Assign))
		}
		if r.Priority != "" && !priorityRe.MatchString(r.Priority) {
			v.addIn("route", i+1, r.Name, "priority", fmt.Sprintf("must be P1-P5, got %q", r.Priority))
		}
		addrs("route", i+1, r.Name, "informed", r.Informed, false)
	}
	if d := c.Routing.DefaultAssignee; d != "" {
		if _, ok := names[d]; !ok {
			v.add(key("routing", "default_assignee"), fmt.Sprintf("%q is not the name of a team or provider", d))
		}
	} else if len(c.Routes) > 0 {
		v.add(key("routing", "default_assignee"), "required when routes are configured: who gets what no route matches")
	}
}

// oneAddr checks an optional problem_contact address and returns it in
// lower case.
func oneAddr(v *validator, table string, n int, label, a string) string {
	if a == "" {
		return ""
	}
	p, err := mail.ParseAddress(a)
	if err != nil || p.Name != "" {
		v.addIn(table, n, label, "problem_contact", fmt.Sprintf("not a plain email address: %q", a))
		return a
	}
	return strings.ToLower(p.Address)
}

// addIn reports a problem in the nth (1-based) table of an array of
// tables, naming it by its name when it has one: `[[route]] "printing" assign`.
func (v *validator) addIn(table string, n int, label, field, msg string) {
	name := fmt.Sprintf("[[%s]] #%d %s", table, n, field)
	if label != "" {
		name = fmt.Sprintf("[[%s]] %q %s", table, label, field)
	}
	v.errs = append(v.errs, &Error{File: v.file, Line: v.lines.findIn(table, n, field), Key: name, Msg: msg})
}

// Problems configures repeat detection (problem management). It is on
// when the [problems] section is present.
type Problems struct {
	Enabled bool `toml:"-"`
	// Window: earlier incidents this recent count as occurrences.
	Window Duration `toml:"window"`
	// Threshold: occurrences (the new incident included) that make a
	// problem.
	Threshold int `toml:"threshold"`
	// Similarity: 0..1, how alike two incidents' fingerprints must be.
	Similarity float64 `toml:"similarity"`
	// IgnoreWords are dropped from fingerprints, besides stop words.
	IgnoreWords []string `toml:"ignore_words"`
	// NotifyRequester tells the requester that the incident is part of a
	// known problem. Default true.
	NotifyRequester bool `toml:"notify_requester"`
	// NotifyEvery: after the notice that opens a problem, the problem
	// contact gets at most one digest of its new occurrences this often.
	// Default 4h.
	NotifyEvery Duration `toml:"notify_every"`
}

func (c *Config) validateProblems(v *validator) {
	p := &c.Problems
	if p.Window.Duration == 0 {
		p.Window.Duration = 30 * 24 * time.Hour
	}
	if p.Threshold == 0 {
		p.Threshold = 2
	}
	if p.Similarity == 0 {
		p.Similarity = 0.75
	}
	if p.NotifyEvery.Duration == 0 {
		p.NotifyEvery.Duration = 4 * time.Hour
	}
	if p.NotifyEvery.Duration < time.Minute {
		v.add(key("problems", "notify_every"), fmt.Sprintf("must be at least 1m, got %s", p.NotifyEvery.Duration))
	}
	if p.Window.Duration < time.Hour {
		v.add(key("problems", "window"), fmt.Sprintf("must be at least 1h, got %s", p.Window.Duration))
	}
	if p.Threshold < 2 {
		v.add(key("problems", "threshold"), fmt.Sprintf("must be 2 or more (a problem is a repeat), got %d", p.Threshold))
	}
	if p.Similarity <= 0 || p.Similarity > 1 {
		v.add(key("problems", "similarity"), fmt.Sprintf("must be more than 0 and at most 1, got %v", p.Similarity))
	}
}
