package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/helpdeskd/helpdeskd/workflow"
)

// cmdSimilar explains the repeat decision for a subject: its
// fingerprint and the incidents of the window it is compared with.
func cmdSimilar(e *env, args []string) error {
	fs := newFlags("similar", e)
	asJSON := fs.Bool("json", false, "JSON output")
	nowS := fs.String("now", "", "compare as a new incident at this time would be (RFC 3339); default: now")
	limit := fs.Int("n", 10, "how many of the most similar incidents to list")
	body := fs.String("body", "", "the mail's text: its first line that is not a greeting counts when the subject says too little")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || strings.TrimSpace(strings.Join(pos, " ")) == "" {
		return exitf(exitUsage, "usage: helpdeskd similar [--json] [--now T] [-n N] [--body TEXT] SUBJECT")
	}
	if *limit < 1 {
		return exitf(exitUsage, "-n %d: give 1 or more", *limit)
	}
	now, err := nowFlag(*nowS)
	if err != nil {
		return err
	}
	cfg, st, err := e.openConfigured()
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := workflow.Similar(e.ctx, st.Reader, cfg, now, strings.Join(pos, " "), *body, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, v)
	}
	if v.Fingerprint == "" {
		fmt.Fprintf(e.stdout, "%q has no words to compare (stop words, numbers and ids only): it never counts as a repeat\n", v.Subject)
		return nil
	}
	if !v.Enabled {
		fmt.Fprintln(e.stdout, "repeat detection is off (no [problems] section): nothing is linked automatically; compared as it would be with the defaults")
	}
	fmt.Fprintf(e.stdout, "fingerprint: %s\n", v.Fingerprint)
	fmt.Fprintf(e.stdout, "the same issue from similarity %.2f; a problem from %d occurrences within %s; words weighed by %d incidents\n",
		v.Similarity, v.Threshold, v.Window, v.History)
	if len(v.Matches) == 0 {
		fmt.Fprintf(e.stdout, "no incident of the last %s shares a word\n", v.Window)
	} else {
		fmt.Fprintf(e.stdout, "%d incident(s) of the last %s share a word, %d of them the same issue; the most similar:\n", v.Candidates, v.Window, v.Same)
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tSIMILARITY\tSAME ISSUE\tPROBLEM\tREQUESTER\tCREATED\tFINGERPRINT\tAPART")
		for _, m := range v.Matches {
			same, prob, apart := "", m.Problem, m.Apart
			if m.Same {
				same = "yes"
			}
			if prob == "" {
				prob = "-"
			}
			if apart == "" {
				apart = "-"
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Key, m.Similarity, same, prob, clip(m.Requester, 40),
				m.CreatedAt.Format("2006-01-02 15:04"), clip(m.Fingerprint, 60), apart)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "verdict: %s\n", v.Why)
	fmt.Fprintln(e.stdout, "(from someone with no open incident like it: an authenticated sender's own open incident of like words takes the mail as a follow-up instead, and a person's own open incidents are no occurrences of their new report; incidents \"#not-problem\" parted from these words are left out)")
	return nil
}
