package mailparse

import (
	"regexp"
	"strings"
)

// Lines that start the quoted history of a reply. Each pattern is matched
// against one trimmed line; the history starts at the first match.
var quoteHeaders = []*regexp.Regexp{
	regexp.MustCompile(`^-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Messaggio originale|Oorspronkelijk bericht|Originalmeddelande|Oprindelig meddelelse|Alkuperäinen viesti|Forwarded message|Weitergeleitete Nachricht)\s*-{2,}$`),
	regexp.MustCompile(`^_{10,}$`),
	// Gmail, Thunderbird, Apple Mail: "On <date>, <name> wrote:" and translations.
	regexp.MustCompile(`(?i)^(?:on|am|le|el|il|op|den|på|em|w dniu)\s.{4,200}\s(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev|escreveu|napisał)\s?:$`),
	regexp.MustCompile(`(?i)^.{4,200}\s(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev|escreveu):$`),
	// German clients put the name after the verb: "Am …, schrieb X <x@y>:".
	regexp.MustCompile(`(?i)^am\s.{4,100}\sschrieb\s.{1,200}:$`),
	// Outlook's header block, first line.
	regexp.MustCompile(`(?i)^\*?(?:from|von|de|van|från|fra|da|od)\s?\*?:\s.+`),
}

var outlookSent = regexp.MustCompile(`(?i)^\*?(?:sent|gesendet|envoyé|enviado|verzonden|skickat|sendt|inviato|date|datum)\s?\*?:\s`)

var signatureLine = []*regexp.Regexp{
	regexp.MustCompile(`^-- ?$`),
	regexp.MustCompile(`(?i)^(?:sent from my |sent from mail for windows|get outlook for |von meinem .* gesendet|envoyé de mon |enviado desde mi )`),
}

// StripReply returns the new part of a reply: the text above the quoted
// history and the signature. When nothing would remain it returns the text
// unchanged, so a message is never reduced to nothing.
func StripReply(text string) string {
	lines := strings.Split(text, "\n")
	cut := len(lines)
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, ">") {
			cut = i
			break
		}
		if isQuoteHeader(lines, i, t) {
			cut = i
			break
		}
		for _, re := range signatureLine {
			if re.MatchString(line) {
				cut = i
				break
			}
		}
		if cut != len(lines) {
			break
		}
	}
	out := strings.TrimSpace(strings.Join(lines[:cut], "\n"))
	if out == "" {
		return strings.TrimSpace(text)
	}
	return out
}

func isQuoteHeader(lines []string, i int, t string) bool {
	if !mayBeQuoteHeader(t) {
		// Cheap test first: most lines of a message are prose, and the
		// patterns below backtrack over the whole line.
		return i+1 < len(lines) && len(t) < 200 && wrappedWrote(t, strings.TrimSpace(lines[i+1]))
	}
	for j, re := range quoteHeaders {
		if !re.MatchString(t) {
			continue
		}
		if j == len(quoteHeaders)-1 {
			// "From: x" alone is too common in a body; require the next
			// non-empty lines to look like Outlook's block (Sent:/Date:).
			for k := i + 1; k < len(lines) && k <= i+3; k++ {
				if outlookSent.MatchString(strings.TrimSpace(lines[k])) {
					return true
				}
			}
			return false
		}
		return true
	}
	return i+1 < len(lines) && len(t) < 200 && wrappedWrote(t, strings.TrimSpace(lines[i+1]))
}

// mayBeQuoteHeader is true when t could match one of quoteHeaders: every
// pattern needs a colon, or starts with '-' or '_'.
func mayBeQuoteHeader(t string) bool {
	return t[0] == '-' || t[0] == '_' || strings.IndexByte(t, ':') >= 0
}

// wrappedWrote is a "wrote:" line wrapped over two lines by the client.
func wrappedWrote(t, next string) bool {
	if !strings.HasSuffix(next, ":") && !strings.HasSuffix(next, "：") {
		return false
	}
	return quoteHeaders[2].MatchString(t + " " + next)
}
