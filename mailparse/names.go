package mailparse

import (
	"strings"
	"unicode"
)

// oneLineName makes a name taken from a message (an attachment's file
// name) safe to show on one line of a mail or a terminal: control
// characters, line and paragraph separators become spaces, runs of space
// fold, and the ends are trimmed. "a\r\nContent-Type: text/html.txt"
// stays one line.
func oneLineName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
