package workflow

import (
	"strings"
	"sync"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/workflow/sla"
)

// The directory: who is who, built once from a configuration (and again
// for the configuration a reload brings), indexed by address, domain and
// name, so that the rules ask it instead of walking the configuration's
// tables for every message.

// PartyKind says whether a party is in-house or external.
type PartyKind string

// The kinds of party.
const (
	Team     PartyKind = "team"
	Provider PartyKind = "provider"
)

// Party is a team or provider as the rules see it (RASCI: the
// responsible party of the incidents assigned to it).
type Party struct {
	Name    string
	Kind    PartyKind
	Label   string   // the name employees see
	Members []string // a team's members; a provider's intake
	Chain   []string // the reporting chain, level 1 first (accountable)
	Contact string   // problem contact (consulted)
	Policy  *sla.Policy
	// Its configuration: exactly one is set, by Kind.
	Team     *config.Team
	Provider *config.Provider
}

// Directory indexes the parties of a configuration.
type Directory struct {
	names    []string // the parties' names, teams then providers, in the configuration's order
	parties  map[string]*Party
	member   map[string]*Party   // team member address → team
	domain   map[string]*Party   // provider domain → provider
	intake   map[string]*Party   // provider intake address → provider
	chain    map[string][]*Party // chain member → parties whose chain it is on
	contact  map[string][]*Party // problem contact → parties
	inHouse  map[string]bool     // team members, team chains and team problem contacts
	provider map[string][]string // address → providers it speaks for
}

var directories sync.Map // *config.Config → *Directory

// directoryOf returns the directory of a configuration, built on first
// use. A configuration is not changed after it is loaded (a reload makes
// a new one), so the directory stays true to it.
func directoryOf(cfg *config.Config) *Directory {
	if d, ok := directories.Load(cfg); ok {
		return d.(*Directory)
	}
	d, _ := directories.LoadOrStore(cfg, NewDirectory(cfg))
	return d.(*Directory)
}

// NewDirectory builds the directory of a configuration.
func NewDirectory(cfg *config.Config) *Directory {
	d := &Directory{parties: map[string]*Party{}, member: map[string]*Party{}, domain: map[string]*Party{}, intake: map[string]*Party{},
		chain: map[string][]*Party{}, contact: map[string][]*Party{}, inHouse: map[string]bool{}, provider: map[string][]string{}}
	policy := func(name string) *sla.Policy {
		if p := cfg.Policy(name); p != nil {
			return p.Pol
		}
		return nil
	}
	for i := range cfg.Teams {
		t := &cfg.Teams[i]
		p := &Party{Name: t.Name, Kind: Team, Label: t.Label(), Members: t.Members, Chain: t.Chain, Contact: t.ProblemContact, Policy: policy(t.Name), Team: t}
		d.parties[t.Name] = p
		d.names = append(d.names, t.Name)
		for _, m := range t.Members {
			if d.member[m] == nil {
				d.member[m] = p
			}
			d.inHouse[m] = true
		}
		for _, c := range t.Chain {
			d.chain[c] = append(d.chain[c], p)
			d.inHouse[c] = true
		}
		if c := strings.ToLower(t.ProblemContact); c != "" {
			d.contact[c] = append(d.contact[c], p)
			d.inHouse[c] = true
		}
	}
	for i := range cfg.Providers {
		pv := &cfg.Providers[i]
		p := &Party{Name: pv.Name, Kind: Provider, Label: pv.Label(), Members: []string{pv.Intake}, Chain: pv.Chain, Contact: pv.ProblemContact, Policy: policy(pv.Name), Provider: pv}
		d.parties[pv.Name] = p
		d.names = append(d.names, pv.Name)
		for _, dom := range pv.Domains {
			if d.domain[dom] == nil {
				d.domain[dom] = p
			}
		}
		if d.intake[pv.Intake] == nil {
			d.intake[pv.Intake] = p
		}
		for _, c := range pv.Chain {
			d.chain[c] = append(d.chain[c], p)
		}
		if c := strings.ToLower(pv.ProblemContact); c != "" {
			d.contact[c] = append(d.contact[c], p)
		}
	}
	return d
}

// Party returns a team or provider by name, or nil.
func (d *Directory) Party(name string) *Party { return d.parties[name] }

// Names are the parties' names, teams first, in the configuration's
// order.
func (d *Directory) Names() []string { return d.names }

// Staff is the team whose member addr is, else the provider whose domain
// or intake address it has; nil for anyone else.
func (d *Directory) Staff(addr string) *Party {
	addr = strings.ToLower(addr)
	if p := d.member[addr]; p != nil {
		return p
	}
	if p := d.domain[domainOf(addr)]; p != nil {
		return p
	}
	return d.intake[addr]
}

// InChain reports whether addr is on a team's or provider's reporting
// chain.
func (d *Directory) InChain(addr string) bool { return len(d.chain[strings.ToLower(addr)]) > 0 }

// OnChainOf reports whether addr is on the reporting chain of the named
// team or provider.
func (d *Directory) OnChainOf(addr, party string) bool {
	for _, p := range d.chain[strings.ToLower(addr)] {
		if p.Name == party {
			return true
		}
	}
	return false
}

// IsProblemContact reports whether addr is a team's or provider's
// problem contact.
func (d *Directory) IsProblemContact(addr string) bool {
	return len(d.contact[strings.ToLower(addr)]) > 0
}

// InHouse reports whether addr is in-house staff: a team member, on a
// team's chain, or a team's problem contact.
func (d *Directory) InHouse(addr string) bool { return d.inHouse[strings.ToLower(addr)] }

// ProvidersOf lists the providers addr speaks for: by domain or intake
// address, on the provider's chain, or as its problem contact.
func (d *Directory) ProvidersOf(addr string) []string {
	addr = strings.ToLower(addr)
	var out []string
	seen := map[string]bool{}
	add := func(p *Party) {
		if p != nil && p.Kind == Provider && !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, p.Name)
		}
	}
	// In configuration order, as the tables list them.
	for _, p := range d.orderedProviders() {
		if d.domain[domainOf(addr)] == p || d.intake[addr] == p {
			add(p)
		}
		for _, c := range d.chain[addr] {
			if c == p {
				add(p)
			}
		}
		for _, c := range d.contact[addr] {
			if c == p {
				add(p)
			}
		}
	}
	return out
}

func (d *Directory) orderedProviders() []*Party {
	var out []*Party
	for _, p := range d.parties {
		if p.Kind == Provider {
			out = append(out, p)
		}
	}
	// Map order is random; names sort them stably.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Name < out[j-1].Name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
