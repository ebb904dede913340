package mailparse

import (
	"regexp"
	"strings"
)

// Reply stripping: the new part of a reply is the text above the quoted
// history (or, when the history comes first, the text below it), without
// the signature. The rules are those of the clients people use:
//
//   - Gmail, Thunderbird, Apple Mail, iOS, Android: "On <date>, <name>
//     wrote:" in many languages, sometimes wrapped over two lines, and
//     date-first variants ("2016-03-03 17:21 GMT+01:00 Name <x@y>:");
//   - Outlook desktop, OWA and mobile: "-----Original Message-----" and the
//     "From: … Sent: …" header block (also bold, *From:*), in many
//     languages;
//   - "> " quoting;
//   - signatures: "-- ", "Sent from my …" and its translations.

var separatorLine = []*regexp.Regexp{
	regexp.MustCompile(`(?i)^[-_=*]*\s*(?:original message|ursprüngliche nachricht|message d['’]origine|mensaje original|messaggio originale|oorspronkelijk bericht|originalmeddelande|oprindelig meddelelse|opprinnelig melding|alkuperäinen viesti|forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|исходное сообщение|пересылаемое сообщение|wiadomość oryginalna|oryginalna wiadomość|původní zpráva|mensagem original|mensagem encaminhada|ursprungligt meddelande|vidarebefordrat meddelande|eredeti üzenet|orijinal ileti|orijinal mesaj|αρχικό μήνυμα|原始邮件|原始郵件|元のメッセージ|원본 메시지)\s*[-_=*]*$`),
	regexp.MustCompile(`^_{10,}$`),
}

// wroteVerbs end the attribution line of a quote in many languages
// (compared in lower case with the line's end, colon and spaces removed).
var wroteVerbs = []string{"wrote", "writes", "schrieb", "schreef", "a écrit", "escribió", "escribio",
	"escreveu", "ha scritto", "scrisse", "skrev", "kirjoitti", "napisał", "napisała", "napisał(a)",
	"написал", "написала", "написал(а)", "пише", "pisze", "írta", "yazdı", "έγραψε", "napsal", "napsala",
	"已写", "写道", "寫道", "さんは書きました", "님이 작성"}

// endsWithVerb reports whether s ends with one of wroteVerbs.
func endsWithVerb(s string) bool {
	s = strings.TrimRight(s, " \t:：")
	if len(s) > 64 {
		s = s[len(s)-64:]
	}
	s = strings.ToLower(s)
	for _, v := range wroteVerbs {
		if strings.HasSuffix(s, v) {
			return true
		}
	}
	return false
}

// dateTime is a time of day, as every attribution line carries one.
var dateTime = regexp.MustCompile(`\b\d{1,2}:\d{2}\b`)

// attribution: "On Mon, … wrote:", "Le …, X a écrit :", "Am … schrieb X:".
var attribution = []*regexp.Regexp{
	regexp.MustCompile(`(?i)^(?:on|am|le|el|il|op|den|på|em|w dniu|dne|в|el día|on the)\s.+[:：]$`),
}

// germanAttribution puts the name after the verb: "Am …, schrieb X <x@y>:".
var germanAttribution = regexp.MustCompile(`(?i)^am\s.+\sschrieb\s.+:$`)

// headerLine is the first line of Outlook's header block, "From: x",
// also as "*From:* x" (Markdown bold) and translated.
var headerLine = regexp.MustCompile(`(?i)^\*?(?:from|von|de|van|från|fra|da|od|от|lähettäjä|feladó|kimden|de la|差出人|发件人|寄件者|보낸 사람|από)\*?[\s\x{00a0}]?[:：]\*?[\s\x{00a0}]`)

// headerNext are the fields that follow it within a few lines.
var headerNext = regexp.MustCompile(`(?i)^\*?(?:sent|date|gesendet|datum|envoyé|date d'envoi|enviado|fecha|data|inviato|verzonden|skickat|sendt|wysłano|отправлено|дата|lähetetty|elküldve|tarih|to|an|à|a|para|aan|till|til|do|кому|subject|betreff|objet|asunto|oggetto|sujet|onderwerp|ämne|emne|temat|тема|risposta|odesláno|komu|předmět|gönderildi|kime|konu|送信日時|宛先|件名|发送时间|发送日期|收件人|主题|寄件日期|收件者|主旨|보낸 날짜|받는 사람|제목|στάλθηκε|προς|θέμα)\*?[\s\x{00a0}]?[:：]`)

var signatureLine = []*regexp.Regexp{
	regexp.MustCompile(`^-- ?$`),
	regexp.MustCompile(`(?i)^(?:sent from my |sent from (?:mail|outlook|yahoo mail|samsung|windows mail)|sent with |get outlook for |von meinem .{1,40} gesendet|gesendet von |envoyé de mon |envoyé depuis |enviado desde (?:mi|el) |enviado do meu |inviato da(?:l mio)? |verzonden met |verstuurd vanaf mijn |sendt fra min |skickat från min |lähetetty |wysłane z |отправлено с )`),
}

// StripReply returns the new part of a reply: the text above the quoted
// history and the signature (or below the history, when the reply was
// written under a ">"-quoted history). Every line the writer put above
// the history is new text.
//
// Everything from a separator line ("-----Original Message-----",
// "-------- Forwarded Message --------", a line of underscores) or an
// Outlook header block ("From: … Sent: …") on is history: a forward with
// no text of its own above the separator gives "" (ForwardedText gives
// the forwarded message).
//
// Lines that follow an attribution ("On …, X wrote:") without ">" are
// the quoted message, never new text: a bottom-posted reply counts only
// below ">"-quoted lines. When nothing new remains the text is returned
// unchanged, so a message is never reduced to nothing, except that
// nothing from an attribution line on is returned: then the result is
// the text up to and including the attribution.
func StripReply(text string) string {
	out, _ := splitReply(text)
	return out
}

// ForwardedText returns the quoted or forwarded message of a text that
// has nothing of its writer's own above a separator ("-----Original
// Message-----", "-------- Forwarded Message --------", a line of
// underscores, Outlook's "From: … Sent: …" block): the text from the
// separator on, trimmed. It is "" when StripReply finds new text, or
// when the text holds no such separator.
func ForwardedText(text string) string {
	_, fwd := splitReply(text)
	return fwd
}

// splitReply is StripReply and ForwardedText in one pass.
func splitReply(text string) (newText, forwarded string) {
	lines := strings.Split(text, "\n")
	cut, skip, attr := findHistory(lines)
	out := strings.TrimSpace(strings.Join(lines[:cut], "\n"))
	separator := cut < len(lines) && skip > 0 && !attr
	if out == "" && cut < len(lines) {
		// The history comes first: the reply is what follows it, when
		// it follows ">"-quoted lines. Everything below a separator
		// or an Outlook header block is the forwarded or quoted
		// message, never new text.
		rest := lines[cut+skip:]
		if !separator && (!attr || startsQuoted(rest)) {
			out = strings.TrimSpace(strings.Join(afterQuote(rest), "\n"))
		}
	}
	out = trimSignature(out)
	out = strings.TrimRight(trimSeparators(out), " \t\n")
	if strings.TrimSpace(out) == "" {
		if separator {
			return "", strings.TrimSpace(strings.Join(lines[cut:], "\n"))
		}
		return untilAttribution(lines, strings.TrimSpace(text)), ""
	}
	return out, ""
}

// startsQuoted reports whether the first non-blank line starts with ">".
func startsQuoted(lines []string) bool {
	for _, l := range lines {
		if t := strings.TrimSpace(l); t != "" {
			return strings.HasPrefix(t, ">")
		}
	}
	return false
}

// untilAttribution is the fallback of StripReply: the whole text, or,
// when it holds an attribution line, the text up to and including it, or,
// when it holds a separator line first, the text above it.
func untilAttribution(lines []string, whole string) string {
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, ">") {
			continue
		}
		if n, attr := quoteHeader(lines, i, t); n > 0 {
			if !attr {
				// A separator: what follows is forwarded, never new.
				return strings.TrimSpace(strings.Join(lines[:i], "\n"))
			}
			return strings.TrimSpace(strings.Join(lines[:i+n], "\n"))
		}
	}
	return whole
}

// findHistory returns the line where the quoted history starts, how
// many lines its header takes, and whether that header is an attribution
// line ("On … wrote:").
func findHistory(lines []string) (cut, skip int, attr bool) {
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, ">") {
			return i, 0, false
		}
		if n, a := quoteHeader(lines, i, t); n > 0 {
			return i, n, a
		}
	}
	return len(lines), 0, false
}

// quoteHeader reports whether line i starts the quoted history, how
// many lines the header takes (0: it does not), and whether it is an
// attribution line.
func quoteHeader(lines []string, i int, t string) (int, bool) {
	if len(t) > 400 {
		return 0, false // no header line is this long; and the patterns need not run over it
	}
	if len(t) < 100 { // separator lines are short
		for _, re := range separatorLine {
			if re.MatchString(t) {
				return 1, false
			}
		}
	}
	if !mayBeQuoteHeader(t) {
		return 0, false
	}
	// Attribution lines, alone or wrapped over up to four lines.
	cand := nbsp.Replace(t)
	if len(cand) <= 400 && isAttribution(cand) {
		return 1, true
	}
	if wrapStart(cand) {
		// A wrapped attribution: lines that only together form one, and
		// whose last line is not an attribution that starts on its own
		// (then the attribution starts there, and the lines above are
		// the writer's).
		for k, n := i+1, 1; k < len(lines) && k <= i+6 && n < 4; k++ {
			next := nbsp.Replace(strings.TrimSpace(lines[k]))
			if next == "" {
				continue
			}
			if strings.HasPrefix(next, ">") && !closingBracket(next) {
				break
			}
			if wrapStart(next) && isAttribution(next) {
				break
			}
			cand += " " + next
			n++
			if len(cand) > 400 {
				break
			}
			if isAttribution(cand) {
				return k - i + 1, true
			}
		}
	}
	// Outlook's header block: "From:" followed by Sent/Date/To within
	// three lines.
	if headerLine.MatchString(t) {
		for k := i + 1; k < len(lines) && k <= i+3; k++ {
			if headerNext.MatchString(strings.TrimSpace(lines[k])) {
				return 1, false
			}
		}
	}
	return 0, false
}

// attributionStart is how the first line of a wrapped attribution
// begins: a lead word ("On", "Am", "Le", "El", "Il", "Op", "Den", "På",
// "Em", "W dniu", "Dne", "В", "在", "於"), a date, or a name with an
// address ("Name <x@y> schrieb am").
var attributionStart = regexp.MustCompile(`(?i)^(?:(?:on|am|le|el|il|op|den|på|em|w dniu|dne|в|el día|on the)\s|在|於|\d)`)

// nameAddrStart: a name and then an address in brackets.
var nameAddrStart = regexp.MustCompile(`^"?[^<>@.:!?"]{1,60}"?\s*<[^<>\s]*@`)

func wrapStart(s string) bool {
	return attributionStart.MatchString(s) || nameAddrStart.MatchString(s)
}

// closingBracket: the end of an address wrapped onto a line of its own,
// ">:" or "> wrote:", which looks like a quote but is not one.
func closingBracket(s string) bool {
	rest := strings.TrimSpace(strings.TrimPrefix(s, ">"))
	return len(rest) <= 40 && (rest == ":" || rest == "：" || endsWithVerb(rest))
}

var nbsp = strings.NewReplacer("\u00a0", " ", "\u202f", " ")

// nameFirst: "Name <x@y> schrieb am Di., 16. Aug. 2016 um 12:52 Uhr:".
var nameFirst = regexp.MustCompile(`(?i)@\S+\s+(?:schrieb|wrote|a écrit|escribió|ha scritto|schreef|skrev|napisał)\s.+[:：]$`)

// verbThenName: the verb before the name, as Scandinavian and Dutch
// clients write it ("Den tis 4 mars 2025 kl 09:00 skrev X <x@y>:", "Op
// 04-03-2025 om 09:00 schreef X:").
// English, French, Spanish and the like never put the verb first, so
// "On 4 March 2025 I wrote to the vendor:" stays prose.
var verbThenName = regexp.MustCompile(`(?i)\s(?:skrev|schreef|schrieb)\s[^:：]{1,100}[:：]$`)

// verbThenDate: the date in brackets after the verb, as Gmail writes it in
// Hungarian ("X <x@y> ezt írta (időpont: 2025. márc. 4., K, 9:00):").
var verbThenDate = regexp.MustCompile(`(?i)ezt írta\s*\([^()]*\d[^()]*\)\s*[:：]$`)

// addrEnd: a line that ends with a name's address and a colon, the form
// Gmail uses without a verb in Russian, Japanese and other languages
// ("вт, 4 мар. 2025 г. в 09:00, X <x@y>:", "2025年3月4日(火) 9:00 X <x@y>:").
var addrEnd = regexp.MustCompile(`<[^<>\s@]+@[^<>\s]+>\s*[:：]$`)

// attrYear and attrClock are what real attribution lines carry besides
// the verb: a year ("2025", "04-03-25") or a time of day ("09:00",
// "09.00"). Prose ("On Monday my colleague wrote:") carries neither.
var (
	attrYear  = regexp.MustCompile(`(?:^|[^\d])(?:19|20)\d{2}(?:[^\d]|$)|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b`)
	attrClock = regexp.MustCompile(`(?:^|[^\d])\d{1,2}[:.]\d{2}(?:[^\d]|$)`)
)

// datedAttr reports whether s carries a year, a time or an address.
func datedAttr(s string) bool {
	return strings.Contains(s, "@") || attrYear.MatchString(s) || attrClock.MatchString(s)
}

func isAttribution(s string) bool {
	if dateFirst.MatchString(s) && (dateZoneFirst.MatchString(s) ||
		((strings.HasSuffix(s, ":") || strings.HasSuffix(s, "：")) && strings.Contains(s, "@"))) {
		// Date first and no verb: "2016-03-03 17:21 GMT+01:00 Name <x@y>:"
		// (Gmail). A line of a log or a diary ("2025-03-03 10:30 printer
		// down") has no zone, no address and no closing colon.
		return true
	}
	// Every other form ends with a colon or with the verb; the patterns
	// run only on such lines, and the verb only on the line's end (the
	// patterns are not anchored there, and a scan of a whole long line
	// at every position is what made this slow).
	colon := strings.HasSuffix(s, ":") || strings.HasSuffix(s, "：")
	verb := endsWithVerb(s)
	if !colon && !verb {
		return false
	}
	if germanAttribution.MatchString(s) || (colon && strings.Contains(s, "@") && nameFirst.MatchString(s)) {
		return true
	}
	if colon && datedAttr(s) && len(s) <= 300 {
		if attributionStart.MatchString(s) && verbThenName.MatchString(s) && attrClock.MatchString(s) {
			return true
		}
		if verbThenDate.MatchString(s) {
			return true
		}
		if addrEnd.MatchString(s) && attrYear.MatchString(s) && attrClock.MatchString(s) {
			return true
		}
	}
	if verb && datedAttr(s) {
		for _, re := range attribution {
			if re.MatchString(s) {
				return true
			}
		}
		// Any language: a line with a time or an address that ends with
		// the verb ("20 окт. 2016 г. 19:37 пользователь X <x@y> написал:").
		return dateTime.MatchString(s) || strings.Contains(s, "@")
	}
	return false
}

var dateZoneFirst = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2})?\s*(?:GMT|UTC)[+-]\d{2}:?\d{2}\s+\S`)

var dateFirst = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:GMT|UTC)?[+-]\d{2}:?\d{2})?\s+\S.*$`)

// mayBeQuoteHeader is the cheap test before the patterns: every
// attribution or header line holds a colon (or ends with "wrote").
func mayBeQuoteHeader(t string) bool {
	// A time of day has a colon too; no regular expression runs on the
	// lines of prose that fail this.
	// An attribution wrapped before its colon still names an address.
	return strings.IndexByte(t, ':') >= 0 || strings.IndexByte(t, '@') >= 0 || strings.Contains(t, "：") || strings.Contains(t, "wrote")
}

// afterQuote drops the quoted lines that open a bottom-posted reply.
func afterQuote(lines []string) []string {
	i := 0
	for i < len(lines) {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, ">") {
			i++
			continue
		}
		break
	}
	rest := lines[i:]
	if cut, _, _ := findHistory(rest); cut < len(rest) {
		rest = rest[:cut]
	}
	return rest
}

func trimSignature(s string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		if i == 0 {
			continue // a one-line message is not a signature
		}
		if len(line) > 100 {
			continue // signature markers are short lines
		}
		for _, re := range signatureLine {
			if re.MatchString(strings.TrimSpace(line)) || (re == signatureLine[0] && re.MatchString(line)) {
				return strings.Join(lines[:i], "\n")
			}
		}
	}
	return s
}

// trimSeparators drops rules (----, ____, ====) left at the end.
func trimSeparators(s string) string {
	lines := strings.Split(strings.TrimRight(s, " \t\n"), "\n")
	for len(lines) > 0 {
		t := strings.TrimSpace(lines[len(lines)-1])
		if t == "" || strings.Trim(t, "-_=*") == "" {
			lines = lines[:len(lines)-1]
			continue
		}
		break
	}
	return strings.Join(lines, "\n")
}
