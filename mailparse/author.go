package mailparse

import (
	"regexp"
	"strings"

	"github.com/emersion/go-message/mail"
)

// viaList is the display name a mailing list writes when it rewrites From
// to its own address (DMARC mitigation of Mailman 2.1.18+ and Google
// Groups): "'Alice Example' via it-staff", "Alice Example via it-staff".
var viaList = regexp.MustCompile(`^['"]?(.*?)['"]?\s+via\s+\S.*$`)

// Author is who wrote the message, seen through what a mailing list did to
// it, so that a copy delivered directly and a copy that came through a
// list name the same author. It is, in order:
//
//   - the mailbox of X-Original-From, which lists that rewrite From keep
//     (Mailman's "X-Original-From", Google Groups');
//   - for a From rewritten to the list ("Alice via it-staff"
//     <it-staff@lists.example.org>, list headers present), the single
//     Reply-To mailbox the list set to the writer;
//   - otherwise From.
//
// Addresses are lower-cased, as in From. Author never returns an empty
// address when From has one.
func (m *Message) Author() Address {
	if m.header.Len() == 0 {
		return m.From
	}
	h := mail.Header{Header: m.header}
	if strings.TrimSpace(h.Get("X-Original-From")) != "" {
		if list, err := h.AddressList("X-Original-From"); err == nil && len(list) == 1 && strings.Contains(list[0].Address, "@") {
			return Address{Name: c1ToWindows1252(list[0].Name), Addr: strings.ToLower(list[0].Address)}
		}
	}
	isList := h.Get("List-Id") != "" || h.Get("List-Post") != "" || h.Get("X-Mailman-Version") != ""
	if sm := viaList.FindStringSubmatch(m.From.Name); sm != nil && isList && len(m.ReplyTo) == 1 &&
		!strings.EqualFold(m.ReplyTo[0].Addr, m.From.Addr) {
		a := m.ReplyTo[0]
		if a.Name == "" {
			a.Name = strings.TrimSpace(sm[1])
		}
		return a
	}
	return m.From
}
