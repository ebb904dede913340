package workflow

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailparse"
)

// Authentication of a message's author.
//
// Who may write an Authentication-Results field (RFC 8601)? Anyone: a
// sender puts one in his header as easily as a Subject. Only the fields
// our own servers added can be believed, and they are found by position:
// every server prepends its trace fields, so ours form the block at the
// top of the header, above the Received field the border MTA wrote when
// the message entered from outside ([commands] border_received says
// which Received, counted from the top, that is). Below it is what the
// message arrived with: never believed, whatever authserv-id it names.
// Inside the block only the authserv-ids of [commands]
// trusted_authserv_ids count, and a dmarc=fail there cannot be outvoted
// by a pass anywhere.

// authenticate says whether a message's From is vouched for, and why (or
// why not) in words for the audit trail and the sender. It is vouched for
// when From holds exactly one mailbox (in one From field) and the trusted
// block (see above) holds, from a trusted authserv-id:
//   - dmarc=pass whose header.from is the From domain, or
//   - dkim=pass whose header.d, or spf=pass whose smtp.mailfrom domain, has
//     the same organizational domain as From (DMARC relaxed alignment,
//     RFC 7489 §3.1, organizational domains from the Public Suffix List);
//
// or, with [commands] verify_dkim, when a DKIM signature verified here
// (keys from lookupTXT) is aligned the same way. A dmarc=fail or
// dmarc=permerror in the trusted block, or a dmarc result there that
// cannot be read, refuses the message whatever else passes.
func authenticate(cfg *config.Config, m *mailparse.Message, raw []byte, lookupTXT func(string) ([]string, error)) (bool, string) {
	if m.FromMailboxes > 1 {
		return false, fmt.Sprintf("not authenticated: the From field(s) name %d mailboxes; a message with more than one author is never authenticated", m.FromMailboxes)
	}
	from := domainOf(m.From.Addr)
	if from == "" {
		return false, "not authenticated: no sender domain in From"
	}
	blk := trustedBlock(cfg, m)
	var seen []string // what the trusted block says, for the reason
	var passed string
	vetoed := ""
	for _, f := range blk.fields {
		if f.err != nil {
			seen = append(seen, "an unreadable field ("+f.err.Error()+")")
			continue
		}
		id := f.ar.AuthservID
		for _, b := range f.ar.Bad {
			if b.Method == "dmarc" && vetoed == "" {
				vetoed = fmt.Sprintf("an unreadable dmarc result in the trusted block of %s (%v)", id, b.Err)
			}
			if b.Method != "" {
				seen = append(seen, "an unreadable "+b.Method+" result ("+id+")")
			}
		}
		if f.ar.None {
			seen = append(seen, "none ("+id+")")
		}
		for _, r := range f.ar.Results {
			switch r.Method {
			case "dmarc":
				hf, _ := r.Prop("header", "from")
				switch {
				case r.Value == "fail" || r.Value == "permerror":
					if vetoed == "" {
						vetoed = fmt.Sprintf("dmarc=%s header.from=%s in the trusted block of %s", r.Value, hf, id)
					}
				case r.Value == "pass" && sameDomain(hf, from):
					if passed == "" {
						passed = fmt.Sprintf("dmarc=pass header.from=%s (%s)", hf, id)
					}
				case r.Value == "pass":
					seen = append(seen, fmt.Sprintf("dmarc=pass for header.from=%q, which is not the From domain %s (%s)", hf, from, id))
				default:
					seen = append(seen, fmt.Sprintf("dmarc=%s (%s)", r.Value, id))
				}
			case "dkim":
				d, _ := r.Prop("header", "d")
				switch {
				case r.Value == "pass" && aligned(from, d):
					if passed == "" {
						passed = fmt.Sprintf("dkim=pass header.d=%s (%s)", d, id)
					}
				case r.Value == "pass":
					seen = append(seen, fmt.Sprintf("dkim=pass for header.d=%q, not aligned with %s (%s)", d, from, id))
				default:
					seen = append(seen, fmt.Sprintf("dkim=%s (%s)", r.Value, id))
				}
			case "spf":
				mf, _ := r.Prop("smtp", "mailfrom")
				switch {
				case r.Value == "pass" && aligned(from, mailfromDomain(mf)):
					if passed == "" {
						passed = fmt.Sprintf("spf=pass smtp.mailfrom=%s (%s)", mf, id)
					}
				case r.Value == "pass":
					seen = append(seen, fmt.Sprintf("spf=pass for smtp.mailfrom=%q, not aligned with %s (%s)", mf, from, id))
				default:
					seen = append(seen, fmt.Sprintf("spf=%s (%s)", r.Value, id))
				}
			}
		}
	}
	if vetoed != "" {
		return false, "not authenticated: " + vetoed + blk.ignoredNote()
	}
	if passed != "" {
		return true, passed + ", above the border Received"
	}
	if cfg.Commands.VerifyDKIM {
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookupTXT, MaxVerifications: 5})
		if err == nil {
			for _, v := range vs {
				if v.Err == nil && aligned(from, v.Domain) {
					return true, "DKIM signature of " + v.Domain + " verified"
				}
			}
		}
		seen = append(seen, "no DKIM signature verified here aligned with "+from)
	}
	why := "not authenticated: "
	switch {
	case blk.missing != "":
		why += blk.missing
	case len(blk.fields) == 0:
		why += "no Authentication-Results field of a trusted authserv-id above the border Received"
	default:
		why += "no pass for " + from + " in the trusted block"
	}
	if len(seen) > 0 {
		why += "; found " + strings.Join(seen, ", ")
	}
	return false, why + blk.ignoredNote()
}

// arField is one Authentication-Results field of the trusted block.
type arField struct {
	ar  *mailparse.AuthResults
	err error
}

// block is what the trust rule makes of a header.
type block struct {
	fields    []arField // of trusted authserv-ids, above the border Received
	untrusted []string  // other authserv-ids above the border Received
	below     int       // fields below the border Received
	missing   string    // why there is no border Received, if there is none
}

// ignoredNote says which fields were not believed, for the reason.
func (b block) ignoredNote() string {
	var n string
	if len(b.untrusted) > 0 {
		n += fmt.Sprintf("; Authentication-Results from %q, which is not a trusted authserv-id, are ignored", strings.Join(b.untrusted, `", "`))
	}
	if b.below > 0 {
		n += fmt.Sprintf("; Authentication-Results below the border Received are ignored (%d)", b.below)
	}
	return n
}

// trustedBlock finds the Authentication-Results fields our own servers
// wrote: those above the border Received ([commands] border_received).
func trustedBlock(cfg *config.Config, m *mailparse.Message) block {
	border := cfg.Commands.BorderReceived
	if border < 1 {
		border = 1
	}
	trusted := map[string]bool{}
	for _, id := range cfg.Commands.TrustedAuthservIDs {
		trusted[strings.ToLower(id)] = true
	}
	var b block
	var above []mailparse.HeaderField
	received := 0
	by := ""
	var hopsFrom []string // the "from" hosts of the Received fields above the border's
	for _, f := range m.Fields("Received", "Authentication-Results") {
		switch {
		case f.Name == "Received":
			received++
			if received == border {
				by = receivedBy(f.Value)
			} else if received < border {
				hopsFrom = append(hopsFrom, receivedFrom(f.Value))
			}
		case received < border:
			above = append(above, f)
		default:
			b.below++
		}
	}
	if received < border {
		b.missing = fmt.Sprintf("the header has %d Received field(s) and the border MTA's is number %d ([commands] border_received), so the message did not come in through it and none of its %d Authentication-Results field(s) is trusted", received, border, len(above))
		return b
	}
	hosts := cfg.Commands.BorderHosts
	if len(hosts) == 0 {
		hosts = cfg.Commands.TrustedAuthservIDs
	}
	ok := false
	for _, h := range hosts {
		ok = ok || strings.EqualFold(strings.TrimSuffix(h, "."), by)
	}
	if !ok {
		b.missing = fmt.Sprintf("Received field number %d ([commands] border_received) was written by %q, not by the border MTA (%s), so none of the Authentication-Results fields above it is trusted",
			border, by, strings.Join(hosts, ", "))
		return b
	}
	// Each own hop above the border received the mail from one of ours:
	// a Received the sender wrote himself above the real border's would
	// otherwise stand in for the border.
	for i, from := range hopsFrom {
		own := false
		for _, h := range hosts {
			own = own || strings.EqualFold(strings.TrimSuffix(h, "."), from)
		}
		if !own {
			b.missing = fmt.Sprintf("Received field number %d, above the border's, came from %q, not from one of our hosts (%s), so none of the Authentication-Results fields is trusted",
				i+1, from, strings.Join(hosts, ", "))
			return b
		}
	}
	for _, f := range above {
		ar, err := mailparse.ParseAuthResults(f.Value)
		if err != nil {
			// Whose it is cannot be told: it vouches for nothing.
			b.fields = append(b.fields, arField{err: err})
			continue
		}
		if !trusted[strings.ToLower(ar.AuthservID)] {
			b.untrusted = append(b.untrusted, ar.AuthservID)
			continue
		}
		b.fields = append(b.fields, arField{ar: ar})
	}
	return b
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(strings.Trim(addr[i+1:], "<> "))
	}
	return ""
}

// mailfromDomain is the domain of an smtp.mailfrom value: an address
// (its local part may be quoted and hold "@") or, as policyd-spf and
// OpenDMARC write it, the domain alone.
func mailfromDomain(v string) string {
	if i := strings.LastIndexByte(v, '@'); i >= 0 {
		v = v[i+1:]
	}
	return strings.ToLower(strings.Trim(v, "<> "))
}

// canonDomain is a domain in lower-case ASCII (IDNA A-labels), without a
// trailing dot; "" when it is not a domain.
func canonDomain(d string) string {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	if d == "" {
		return ""
	}
	if a, err := idna.Lookup.ToASCII(d); err == nil {
		return a
	}
	return d
}

// sameDomain: a dmarc result's header.from names exactly the From domain.
func sameDomain(hf, from string) bool {
	hf, from = canonDomain(hf), canonDomain(from)
	return hf != "" && hf == from
}

// orgDomain is a domain's organizational domain (RFC 7489 §3.2): the
// public suffix from the Public Suffix List plus one label. A public
// suffix itself ("co.uk", a bare TLD) has none: "".
func orgDomain(d string) string {
	d = canonDomain(d)
	if d == "" {
		return ""
	}
	o, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return ""
	}
	return o
}

// aligned is DMARC's relaxed alignment (RFC 7489 §3.1.1): both domains
// have the same organizational domain, so mail.corp.example aligns with
// corp.example, and neither "example" nor "co.uk" aligns with anything.
func aligned(from, d string) bool {
	of := orgDomain(from)
	return of != "" && of == orgDomain(d)
}

// receivedBy is the host a Received field names after "by" (RFC 5321
// 4.4), lower case, without a trailing dot; "" when it names none.
func receivedBy(v string) string {
	m := receivedByRe.FindStringSubmatch(v)
	if m == nil {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(m[1]), ".")
}

var receivedByRe = regexp.MustCompile(`(?i)(?:^|[\s;)])by\s+([^\s;()]+)`)

// receivedFrom is the host a Received field names after "from" (RFC 5321
// 4.4), lower case, without a trailing dot; "" when it names none.
func receivedFrom(v string) string {
	m := receivedFromRe.FindStringSubmatch(v)
	if m == nil {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(m[1]), ".")
}

var receivedFromRe = regexp.MustCompile(`(?i)^\s*from\s+([^\s;()]+)`)
