package mailparse

import (
	"regexp"
	"strings"
)

// replyPrefix matches one reply or forward prefix in the languages mail
// clients use: Re, RE, Fwd, FW, AW, WG, SV, VS, Antw, Doorst, RV, R, TR,
// Réf, and the Chinese 回复, 答复, 转发; with counters (Re[2]:, Re(3):,
// Re^2:) and full-width colons.
var replyPrefix = regexp.MustCompile(`(?i)^\s*(?:re|fwd?|fw|aw|wg|sv|vs|antw(?:oord)?|antwort|doorst|rv|r|tr|réf|ref|enc|res|odp|pd|vb|ynt|回复|答复|转发|回覆|轉寄)\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]\s*`)

// banner matches a bracketed or parenthesised tag at the start: list tags
// ([users]), security banners ([EXTERNAL], (External)), our own and other
// ticket tags. The normalized subject is for people and for comparing
// subjects; threading reads tags from the raw subject.
var banner = regexp.MustCompile(`^\s*(?:\[[^\[\]]{1,40}\]|\((?i:external|ext|extern|externe)\))\s*`)

var wordBanner = regexp.MustCompile(`(?i)^\s*(?:external|extern|caution)\s*[:：]\s*`)

// NormalizeSubject removes reply/forward prefixes (repeated and mixed),
// list tags and "[EXTERNAL]"-style banners from the start of a subject and
// folds white space. What remains is the subject as the first sender wrote
// it.
func NormalizeSubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for i := 0; i < 20; i++ {
		before := s
		if loc := replyPrefix.FindStringIndex(s); loc != nil {
			s = s[loc[1]:]
		}
		if loc := banner.FindStringIndex(s); loc != nil && loc[1] < len(s) {
			s = s[loc[1]:]
		}
		if loc := wordBanner.FindStringIndex(s); loc != nil && loc[1] < len(s) {
			s = s[loc[1]:]
		}
		if s == before {
			break
		}
	}
	return strings.TrimSpace(s)
}
