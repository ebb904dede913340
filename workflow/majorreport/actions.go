package majorreport

import (
	"regexp"
	"strings"
	"time"
)

// Action is one follow-up action of a report: what is to be done, by
// whom, by when.
type Action struct {
	// Text is the item as written, bullet or number removed.
	Text string `json:"text"`
	// Owner is who does it, as written after "owner:", "responsible:",
	// "Verantwortlich:" or in a table's owner column; empty when unnamed.
	Owner string `json:"owner,omitempty"`
	// Due is the due date as written; empty when none is given.
	Due string `json:"due,omitempty"`
	// DueDate is Due read as a calendar date (ISO 8601 "2026-12-01",
	// German "01.12.2026", "1 Dec 2026", "December 1, 2026"); zero when
	// Due is empty or in another form (such as the ambiguous "12/01/2026").
	DueDate time.Time `json:"due_date,omitzero"`
}

var (
	ownerRE  = regexp.MustCompile(`(?i)\b(?:owner|owned by|responsible|assignee|assigned to|verantwortlich|zuständig|zustaendig)\s*[:=]?\s*([^,;()\[\]|]+)`)
	dateRE   = regexp.MustCompile(`(?i)\b(\d{4}-\d{2}-\d{2}|\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}\.?\s+(?:jan|feb|mar|mär|apr|may|mai|jun|jul|aug|sep|oct|okt|nov|dec|dez)[a-z]*\.?\s+\d{4}|(?:jan|feb|mar|mär|apr|may|mai|jun|jul|aug|sep|oct|okt|nov|dec|dez)[a-z]*\.?\s+\d{1,2},?\s+\d{4})\b`)
	bulletRE = regexp.MustCompile(`^\s*(?:[-*•·–—+]|\[[ xX]?\]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+`)
)

// parseActions reads the list items of the actions section, or without
// one (or without items in it) of the prevention section.
func parseActions(r Report) []Action {
	if a := listActions(sectionByCanon(r, Actions)); len(a) > 0 {
		return a
	}
	return listActions(sectionByCanon(r, Prevention))
}

// listActions reads the bullets, numbered items and table rows of text.
func listActions(text string) []Action {
	if text == "" {
		return nil
	}
	var out []Action
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, "|") || strings.Count(t, "|") >= 2 {
			if a, ok := tableAction(t); ok {
				out = append(out, a)
			}
			continue
		}
		m := bulletRE.FindStringIndex(l)
		if m == nil {
			if len(out) > 0 && l != t {
				// An indented continuation of the item before.
				out[len(out)-1].Text += " " + t
				fillAction(&out[len(out)-1])
			}
			continue
		}
		a := Action{Text: strings.TrimSpace(l[m[1]:])}
		fillAction(&a)
		out = append(out, a)
	}
	return out
}

// sectionByCanon returns the text of the section that the canonical name
// canon stands for, under whatever name it was configured.
func sectionByCanon(r Report, canon string) string {
	syn := map[string]bool{}
	for _, s := range synonyms[canon] {
		syn[s] = true
	}
	for _, s := range r.Sections {
		if s.Name == canon || syn[normalize(s.Name)] {
			return s.Text
		}
	}
	return ""
}

// fillAction sets Owner and Due from the item's text.
func fillAction(a *Action) {
	if a.Owner == "" {
		if m := ownerRE.FindStringSubmatch(a.Text); m != nil {
			owner := strings.TrimSpace(m[1])
			// "owner: J. Weber, due 2026-11-30": stop at "due"/"by".
			if d := dueWord(owner); d >= 0 {
				owner = strings.TrimSpace(owner[:d])
			}
			a.Owner = strings.TrimRight(owner, " .:-")
		}
	}
	if a.Due == "" {
		if m := dateRE.FindString(a.Text); m != "" {
			a.Due = m
			a.DueDate = readDate(m)
		}
	}
}

// dueWord finds a " due"/" by"/" bis" word that ends an owner's name.
func dueWord(s string) int {
	l := strings.ToLower(s)
	best := -1
	for _, w := range []string{" due", " by ", " bis ", " until ", " fällig", " deadline"} {
		if i := strings.Index(l, w); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

// tableAction reads a Markdown or plain table row "| action | owner | due |".
func tableAction(row string) (Action, bool) {
	var cells []string
	for _, c := range strings.Split(strings.Trim(row, "| "), "|") {
		cells = append(cells, strings.TrimSpace(c))
	}
	if len(cells) == 0 || cells[0] == "" || strings.Trim(cells[0], "-: ") == "" {
		return Action{}, false // separator row
	}
	switch normalize(cells[0]) {
	case "action", "actions", "massnahme", "aufgabe", "what", "task", "#", "nr", "no":
		return Action{}, false // header row
	}
	a := Action{Text: cells[0]}
	for _, c := range cells[1:] {
		if c == "" {
			continue
		}
		if m := dateRE.FindString(c); m != "" && a.Due == "" {
			a.Due, a.DueDate = m, readDate(m)
		} else if a.Owner == "" {
			a.Owner = c
		}
	}
	fillAction(&a)
	return a, true
}

// readDate reads the date forms named on Action.DueDate.
func readDate(s string) time.Time {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, ",", "")), " ")
	s = strings.ReplaceAll(s, ". ", ".")
	for _, layout := range []string{
		"2006-01-02", "02.01.2006", "2.1.2006", "02.01.06", "2.1.06",
		"2 Jan 2006", "2 January 2006", "2. Jan 2006", "2. January 2006",
		"Jan 2 2006", "January 2 2006", "2 Jan. 2006", "Jan. 2 2006",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
