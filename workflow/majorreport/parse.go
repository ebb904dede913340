package majorreport

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Status is how complete a parsed report is.
type Status string

// The statuses of a parsed report.
const (
	// StatusComplete: every required section has text.
	StatusComplete Status = "complete"
	// StatusPartial: at least one required section is missing or empty.
	StatusPartial Status = "partial"
)

// The canonical names of the sections this package knows. The first four
// are the default required ones ([DefaultSections]); the last three are
// optional unless configured as required.
const (
	WhatHappened  = "what happened"
	Cause         = "cause"
	Fix           = "fix"
	Prevention    = "prevention"
	Impact        = "impact"
	UsersAffected = "users affected"
	Actions       = "actions"
)

// DefaultSections are the required sections when none are configured
// (the `[major] sections` default).
var DefaultSections = []string{WhatHappened, Cause, Fix, Prevention}

// MaxTextBytes bounds the text Parse reads; the rest is ignored and
// Report.Truncated is set. 1 MiB is far more than any written report.
const MaxTextBytes = 1 << 20

// maxInlineHeading is how far into a line, in bytes, an inline heading's
// separator ("Cause: ...") may stand.
const maxInlineHeading = 64

// synonyms maps each canonical section to the headings that name it,
// written in normalised form (see normalize): lower case, umlauts and ß
// spelled out, hyphens and runs of spaces as one space.
var synonyms = map[string][]string{
	WhatHappened: {
		"what happened", "what has happened", "summary", "incident summary",
		"executive summary", "description", "incident description",
		"incident overview", "overview", "what went wrong", "problem description",
		"was ist passiert", "was passiert ist", "was ist geschehen",
		"zusammenfassung", "beschreibung", "vorfallbeschreibung",
		"beschreibung des vorfalls", "sachverhalt", "stoerungsbeschreibung",
		"summary of the incident", "what was the problem",
		"was ist vorgefallen", "was war das problem",
	},
	Cause: {
		"cause", "causes", "root cause", "root causes", "root cause analysis",
		"rca", "reason", "reasons", "why", "why did it happen", "why it happened",
		"cause analysis", "underlying cause", "ursache", "ursachen",
		"grundursache", "ursachenanalyse", "fehlerursache", "warum",
		"what was the cause", "what caused it", "what caused the outage",
		"why did this happen", "warum ist es passiert", "wie kam es dazu",
	},
	Fix: {
		"fix", "the fix", "resolution", "solution", "remediation",
		"how it was fixed", "how was it fixed", "how it was resolved",
		"workaround", "workaround applied", "immediate actions",
		"immediate fix", "recovery", "service restoration", "loesung",
		"behebung", "fehlerbehebung", "stoerungsbehebung", "sofortmassnahmen",
		"wiederherstellung", "actions taken", "steps taken", "what we did",
		"how was it resolved", "wie wurde es behoben",
		"wie wurde der fehler behoben", "wie wurde die stoerung behoben",
	},
	Prevention: {
		"prevention", "lessons learned", "lessons learnt", "preventive actions",
		"preventive measures", "preventative actions", "preventative measures",
		"corrective actions", "corrective and preventive actions", "capa",
		"follow up actions", "follow up", "next steps",
		"how to prevent recurrence", "preventing recurrence", "recurrence prevention",
		"improvements", "vorbeugung", "praevention", "massnahmen",
		"vorbeugende massnahmen", "praeventionsmassnahmen", "korrekturmassnahmen",
		"verbesserungsmassnahmen", "erkenntnisse", "naechste schritte",
		"how we prevent recurrence", "how will it be prevented",
		"how do we prevent this", "what we will do", "what we are changing",
		"wie wird es kuenftig verhindert", "wie verhindern wir das kuenftig",
		"wie verhindern wir das in zukunft",
	},
	Impact: {
		"impact", "impact window", "business impact", "duration", "outage window",
		"outage duration", "time window", "timeframe", "time frame",
		"zeitraum", "dauer", "auswirkung", "auswirkungen", "ausfallzeit",
	},
	UsersAffected: {
		"users affected", "affected users", "who was affected", "affected",
		"scope", "number of users affected", "affected services", "betroffene",
		"betroffene benutzer", "betroffene nutzer", "betroffene anwender",
		"betroffene mitarbeiter", "betroffene mitarbeitende", "betroffene systeme",
	},
	Actions: {
		"actions", "action items", "action plan", "actions with owner and date",
		"open actions", "to dos", "todos", "tasks", "aufgaben",
		"massnahmenplan", "offene punkte", "massnahmenliste",
	},
}

// canonicalOrder fixes the order in which the known groups are built.
var canonicalOrder = []string{WhatHappened, Cause, Fix, Prevention, Impact, UsersAffected, Actions}

// Section is one recognised section of a report.
type Section struct {
	// Name is the configured name for a required section (as written in
	// the configuration), else the canonical name (Impact, UsersAffected,
	// Actions).
	Name string `json:"name"`
	// Heading is the first heading that opened it, as written.
	Heading string `json:"heading"`
	// Text is its text, trimmed, with runs of blank lines made one. Text
	// of a section whose heading appears twice is joined with a blank line.
	Text string `json:"text"`
	// Required is true for a configured section.
	Required bool `json:"required"`
}

// Report is a parsed major incident report.
type Report struct {
	Status Status `json:"status"`
	// Sections are the recognised sections, required and optional, in the
	// order their first heading appears, each with text (a section whose
	// headings have nothing under them is left out and counts as missing).
	Sections []Section `json:"sections"`
	// Missing are the required sections without text, in configured order.
	Missing []string `json:"missing,omitempty"`
	// Preamble is the text before the first recognised heading.
	Preamble string `json:"preamble,omitempty"`
	// Other holds sections under headings that are marked up as headings
	// (bold, Markdown #, underlined) but name no known section, such as
	// "Timeline"; their text belongs to no required section.
	Other []Section `json:"other,omitempty"`
	// Actions are the list items of the actions section (or, without one,
	// of the prevention section), with owner and due date where written.
	Actions []Action `json:"actions,omitempty"`
	// Truncated is true when the text was longer than MaxTextBytes.
	Truncated bool `json:"truncated,omitempty"`
	// Authors are the addresses whose mail added to the report (set by
	// the helpdesk when it records the report; Parse leaves it empty).
	Authors []string `json:"authors,omitempty"`
}

// Text returns the text of the section named name (configured or
// canonical name) and whether it has any.
func (r Report) Text(name string) (string, bool) {
	for _, s := range r.Sections {
		if s.Name == name {
			return s.Text, true
		}
	}
	return "", false
}

// Found is true when at least one known section heading with text was
// recognised: false means the text is not written as a report at all.
func (r Report) Found() bool { return len(r.Sections) > 0 }

// group is one section the parser looks for.
type group struct {
	name     string
	required bool
	order    int // index in the configured list, or -1
}

// matcher maps normalised heading text to the group it opens.
type matcher struct {
	lookup map[string]*group
	config []*group // the required groups, in configured order
}

func newMatcher(sections []string) *matcher {
	if sections == nil {
		sections = DefaultSections
	}
	m := &matcher{lookup: map[string]*group{}}
	byCanon := map[string]*group{}
	for _, c := range canonicalOrder {
		g := &group{name: c, order: -1}
		byCanon[c] = g
		for _, s := range synonyms[c] {
			m.lookup[s] = g
		}
	}
	for i, name := range sections {
		label := strings.TrimSpace(name)
		n := normalize(stripMarkers(label))
		if n == "" {
			continue
		}
		g := m.lookup[n]
		switch {
		case g != nil && !g.required:
			// A known section (by any of its names): required now, and
			// shown under the configured name.
			g.name, g.required, g.order = label, true, i
		case g != nil && normalize(g.name) == n:
			continue // the same name configured twice
		default:
			// An unknown name, or a second name for a group already
			// configured: it matches itself only.
			g = &group{name: label, required: true, order: i}
			m.lookup[n] = g
		}
		m.config = append(m.config, g)
	}
	return m
}

// line is one line of the text with what the parser learnt about it.
type line struct {
	text      string // as written, trailing space removed
	blank     bool
	rule      bool // only ===, ---, ***, ~~~ or ___: decoration
	underline bool // a non-blank line followed or framed by a rule
}

// Parse finds the sections of a major incident report in text, the new
// text of a reply (quoted history and signature already removed) or the
// text of an attached document, by their headings. sections are the
// required sections (nil means DefaultSections); each known name brings
// its synonyms (English and German), an unknown name matches itself only.
//
// A heading is recognised on its own line or inline ("Cause: the switch"),
// numbered ("1.", "1)", "(1)", "I.", "2.1"), bold ("**x**", "__x__", and
// "*x*" as HTML-to-text leaves <b>), as a Markdown "#" heading or
// underlined with === or ---, with or without a colon, in any case. Parse
// never fails and runs in time linear in len(text), which it bounds to
// MaxTextBytes.
func Parse(text string, sections []string) Report {
	m := newMatcher(sections)
	var rep Report
	if len(text) > MaxTextBytes {
		cut := MaxTextBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text, rep.Truncated = text[:cut], true
	}
	text = invisible.Replace(text)
	lines := splitLines(text)

	type open struct {
		g       *group // nil for an unknown heading (Other) or the preamble
		heading string
		body    []string
		other   bool
	}
	var (
		cur       = &open{} // the preamble
		done      []*open
		prevHead  bool // the previous non-blank line was a heading
		prevBlank = true
	)
	flush := func() {
		done = append(done, cur)
	}
	for _, ln := range lines {
		if ln.rule {
			continue
		}
		if ln.blank {
			cur.body = append(cur.body, "")
			prevBlank = true
			continue
		}
		g, heading, rest, ok := m.heading(ln, prevBlank || prevHead)
		if ok {
			flush()
			cur = &open{g: g, heading: heading}
			if rest != "" {
				cur.body = append(cur.body, rest)
			}
			// After a heading, inline or not, the next line may be one
			// too: "Cause: the switch" then "Fix: ..." on the next line.
			prevHead, prevBlank = true, false
			continue
		}
		if h, ok := unknownHeading(ln); ok && (cur.g != nil || cur.other) && hasText(cur.body) {
			// A marked-up heading that names no known section ends the
			// section before it. Directly under a known heading it is a
			// subheading and stays part of that section.
			flush()
			cur = &open{heading: h, other: true}
			prevHead, prevBlank = true, false
			continue
		}
		cur.body = append(cur.body, ln.text)
		prevHead, prevBlank = false, false
	}
	flush()

	texts := map[*group]*Section{}
	parts := map[*group][]string{} // joined once at the end: linear in the text
	var order []*group
	for _, o := range done {
		body := joinBody(o.body)
		switch {
		case o.other:
			rep.Other = append(rep.Other, Section{Heading: o.heading, Text: body})
		case o.g == nil:
			if rep.Preamble == "" {
				rep.Preamble = body
			}
		default:
			s := texts[o.g]
			if s == nil {
				s = &Section{Name: o.g.name, Heading: o.heading, Required: o.g.required}
				texts[o.g] = s
				order = append(order, o.g)
			}
			if body != "" && !placeholder(body) {
				parts[o.g] = append(parts[o.g], body)
			}
		}
	}
	for _, g := range order {
		if p := parts[g]; len(p) > 0 {
			s := texts[g]
			s.Text = strings.Join(p, "\n\n")
			rep.Sections = append(rep.Sections, *s)
		}
	}
	for _, g := range m.config {
		if len(parts[g]) == 0 {
			rep.Missing = append(rep.Missing, g.name)
		}
	}
	rep.Status = StatusComplete
	if len(rep.Missing) > 0 {
		rep.Status = StatusPartial
	}
	rep.Actions = parseActions(rep)
	return rep
}

// invisible normalises line ends and drops the invisible characters that
// editors and HTML conversion leave before headings (byte order mark,
// zero-width space and joiners, soft hyphen).
var invisible = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\ufeff", "", "\u200b", "", "\u200c", "", "\u200d", "", "\u00ad", "")

// splitLines splits text into lines and marks decoration rules and the
// lines they underline (setext headings, and html2text's framed <h1>/<h2>).
func splitLines(text string) []line {
	raw := strings.Split(text, "\n")
	out := make([]line, len(raw))
	for i, r := range raw {
		t := strings.TrimRightFunc(r, unicode.IsSpace)
		out[i] = line{text: t, blank: strings.TrimSpace(t) == "", rule: isRule(t)}
	}
	for i := range out {
		if !out[i].rule {
			continue
		}
		if i > 0 && !out[i-1].blank && !out[i-1].rule {
			out[i-1].underline = true
		}
	}
	return out
}

// isRule reports whether s is only a decoration line: three or more of
// one of = - * ~ _ (spaces allowed between).
func isRule(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 3 {
		return false
	}
	c := s[0]
	if !strings.ContainsRune("=-*~_", rune(c)) {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case c:
			n++
		case ' ':
		default:
			return false
		}
	}
	return n >= 3
}

// heading reports whether ln opens a known section: the section, the
// heading as written, and for an inline heading the text after it.
// inlineOK says whether an inline heading may start here: at the start of
// a paragraph or right after another heading, so that "Reason: ..." in the
// middle of a paragraph stays text.
func (m *matcher) heading(ln line, inlineOK bool) (*group, string, string, bool) {
	t := strings.TrimSpace(ln.text)
	// The whole line is the heading.
	if g := m.find(stripMarkers(t)); g != nil {
		return g, t, "", true
	}
	if !inlineOK {
		return nil, "", "", false
	}
	// Bold heading followed by text: "**Root cause** the switch ...".
	for _, w := range []string{"**", "__", "*", "_"} {
		if !strings.HasPrefix(t, w) {
			continue
		}
		end := strings.Index(t[len(w):], w)
		if end < 0 || end > maxInlineHeading {
			break
		}
		head := t[:len(w)+end+len(w)]
		rest := strings.TrimSpace(t[len(head):])
		rest = strings.TrimLeft(rest, ":-–— \t")
		if g := m.find(stripMarkers(head)); g != nil && rest != "" {
			return g, head, strings.TrimSpace(rest), true
		}
		break
	}
	// "Cause: the switch ...", "1) Root cause - the switch ...".
	lim := t
	if len(lim) > maxInlineHeading {
		lim = lim[:maxInlineHeading]
	}
	for _, sep := range []string{":", " - ", " – ", " — "} {
		i := strings.Index(lim, sep)
		if i <= 0 {
			continue
		}
		head := t[:i]
		rest := strings.TrimSpace(t[i+len(sep):])
		rest = strings.TrimSpace(strings.TrimLeft(rest, "*_"))
		if rest == "" {
			continue
		}
		if g := m.find(stripMarkers(head)); g != nil {
			return g, strings.TrimSpace(head), rest, true
		}
	}
	return nil, "", "", false
}

// find looks a heading up; a short heading that joins names with "/",
// "&" or "+" ("Lessons learned / Preventive actions") names the section
// its known parts name, when they agree and the others are short; one
// joined with "and" or "und" only when every part is a known name of
// the same section ("Fix and workaround"), so a sentence such as "Root
// cause and further steps will follow" is not a heading.
func (m *matcher) find(h string) *group {
	if g := m.lookup[normalize(h)]; g != nil {
		return g
	}
	if len(strings.Fields(h)) > 8 {
		return nil
	}
	strict := false
	parts := strings.FieldsFunc(strings.ToLower(h), func(r rune) bool { return r == '/' || r == '&' || r == '+' })
	if len(parts) == 1 {
		strict = true
		if parts = strings.Split(parts[0], " and "); len(parts) == 1 {
			parts = strings.Split(parts[0], " und ")
		}
	}
	if len(parts) < 2 {
		return nil
	}
	var found *group
	for _, p := range parts {
		g := m.lookup[normalize(strings.TrimSpace(p))]
		switch {
		case g == nil && (strict || len(strings.Fields(p)) > 3):
			return nil
		case g == nil:
		case found == nil:
			found = g
		case g != found:
			return nil // two sections named: not one heading
		}
	}
	return found
}

// unknownHeading reports whether ln is marked up as a heading (bold on its
// own, Markdown #, underlined) though it names no known section, and
// returns its text. It must be short and not end like a sentence.
func unknownHeading(ln line) (string, bool) {
	t := strings.TrimSpace(ln.text)
	marked := ln.underline || strings.HasPrefix(t, "#")
	for _, w := range []string{"**", "__"} {
		if len(t) > 2*len(w) && strings.HasPrefix(t, w) && strings.HasSuffix(t, w) &&
			!strings.Contains(t[len(w):len(t)-len(w)], w) {
			marked = true
		}
	}
	if len(t) > 2 && t[0] == '*' && t[len(t)-1] == '*' && t[1] != ' ' && !strings.Contains(t[1:len(t)-1], "*") {
		marked = true // html2text's <b>
	}
	if !marked {
		return "", false
	}
	h := stripMarkers(t)
	if h == "" || len(strings.Fields(h)) > 8 || strings.HasSuffix(h, ".") {
		return "", false
	}
	return t, true
}

// stripMarkers removes heading decoration from both ends of s: Markdown
// "#", bold and italic markers, bullets, numbering ("1.", "1)", "(1)",
// "I.", "2.1", "a)"), a trailing colon, question mark or dash, a trailing
// parenthesis ("Root cause (RCA)") and table-of-contents leaders with a
// page number ("Cause ........ 3").
func stripMarkers(s string) string {
	for i := 0; i < 8; i++ {
		before := s
		s = strings.TrimSpace(s)
		s = strings.TrimLeft(s, "#*_>•·–—-=~ \t")
		s = strings.TrimRight(s, "#*_:?!.…=~–—- \t")
		s = trimNumber(s)
		s = trimLeader(s)
		if strings.HasSuffix(s, ")") {
			if j := strings.LastIndex(s, "("); j > 0 {
				s = s[:j]
			}
		}
		if s == before {
			break
		}
	}
	return s
}

// trimNumber removes a leading section number: "1.", "1)", "(1)", "1.2",
// "1.2.", "I.", "IV)", "a)", "A.", "Step 3:" is not removed.
func trimNumber(s string) string {
	t := s
	paren := strings.HasPrefix(t, "(")
	if paren {
		t = t[1:]
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	if i == 0 {
		// Roman numeral or a single letter.
		for i < len(t) && strings.IndexByte("IVXivx", t[i]) >= 0 {
			i++
		}
		if i == 0 && len(t) > 1 && (t[1] == ')' || t[1] == '.') && unicode.IsLetter(rune(t[0])) {
			i = 1
		}
		if i == 0 || i > 5 || i >= len(t) || (t[i] != '.' && t[i] != ')') {
			return s
		}
	}
	if i < len(t) && (t[i] == ')' || t[i] == '.') {
		i++
	} else if paren || (i < len(t) && t[i] != ' ' && t[i] != '\t') {
		return s
	}
	if i < len(t) && t[i] != ' ' && t[i] != '\t' && !paren {
		// "1.5GB" or "I.e." is no number.
		return s
	}
	return strings.TrimSpace(t[i:])
}

// trimLeader removes a table-of-contents leader and page number:
// "Root cause ........ 3", "Ursache\t4".
func trimLeader(s string) string {
	j := len(s)
	for j > 0 && s[j-1] >= '0' && s[j-1] <= '9' {
		j--
	}
	if j == len(s) || j == 0 {
		return s
	}
	k := j
	for k > 0 && (s[k-1] == '.' || s[k-1] == ' ' || s[k-1] == '\t' || s[k-1] == '_') {
		k--
	}
	lead := s[k:j]
	if strings.Count(lead, ".") >= 3 || strings.Contains(lead, "\t") || strings.Count(lead, "_") >= 3 {
		return s[:k]
	}
	return s
}

// normalize folds a heading for lookup: lower case, German umlauts and ß
// spelled out (so "Maßnahmen" and "Massnahmen" match), hyphens, slashes
// and runs of white space made one space.
func normalize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'ä':
			b.WriteString("ae")
		case 'ö':
			b.WriteString("oe")
		case 'ü':
			b.WriteString("ue")
		case 'ß':
			b.WriteString("ss")
		case '-', '‐', '–', '/', '\t', ' ', '\u00a0':
			space = b.Len() > 0
			continue
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
			continue
		}
		space = false
	}
	return b.String()
}

// hasText reports whether body has a non-blank line.
func hasText(body []string) bool {
	for _, l := range body {
		if strings.TrimSpace(l) != "" {
			return true
		}
	}
	return false
}

// joinBody trims a section's lines and makes runs of blank lines one.
func joinBody(body []string) string {
	var b strings.Builder
	blank := false
	for _, l := range body {
		if strings.TrimSpace(l) == "" {
			blank = b.Len() > 0
			continue
		}
		if blank {
			b.WriteString("\n\n")
		} else if b.Len() > 0 {
			b.WriteByte('\n')
		}
		blank = false
		b.WriteString(l)
	}
	return b.String()
}

// placeholder reports whether a section's whole text only promises text:
// "TBD", "n/a", "to follow", "folgt", "-". Such a section is missing.
func placeholder(s string) bool {
	switch normalize(strings.Trim(s, " .…*_()[]")) {
	case "", "tbd", "tba", "n a", "na", "to follow", "to be determined",
		"to be confirmed", "tbc", "pending", "folgt", "wird nachgereicht",
		"noch offen", "offen", "?", "??", "xxx":
		return true
	}
	return false
}
