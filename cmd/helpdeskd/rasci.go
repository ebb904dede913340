package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/helpdeskd/helpdeskd/workflow"
)

// cmdRASCI prints who answers for what, from the configuration alone.
func cmdRASCI(e *env, args []string) error {
	fs := newFlags("rasci", e)
	asJSON := fs.Bool("json", false, "JSON output")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	rows := workflow.RASCI(cfg)
	if *asJSON {
		return writeJSON(e.stdout, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(e.stdout, "No routes and no [routing] default_assignee: nobody is responsible for anything.")
		return nil
	}
	list := func(xs []string, sep string) string {
		if len(xs) == 0 {
			return "-"
		}
		return strings.Join(xs, sep)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tR: RESPONSIBLE\tSLA\tA: ACCOUNTABLE (escalation levels)\tS: SUPPORTING\tC: CONSULTED\tI: INFORMED")
	for _, r := range rows {
		policy := "-"
		if r.SLA != "" {
			policy = r.SLA
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Category, r.Responsible, policy, list(r.Accountable, " → "),
			list(r.Supporting, ", "), list(r.Consulted, ", "), list(r.Informed, ", "))
	}
	return tw.Flush()
}
