package majorreport

import "strings"

// MissingWords returns the sentence a reply uses to name exactly which
// required sections the report lacks, in configured order, such as
// "The report lacks: cause, prevention." It is empty for a complete
// report.
func MissingWords(r Report) string {
	if len(r.Missing) == 0 {
		return ""
	}
	return "The report lacks: " + strings.Join(r.Missing, ", ") + "."
}
