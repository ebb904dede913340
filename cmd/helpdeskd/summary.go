package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/workflow"
)

// cmdSummary renders an accountability summary without sending it
// (--preview), or queues it now (--send, still once per period).
func cmdSummary(e *env, args []string) error {
	fs := newFlags("summary", e)
	name := fs.String("schedule", "", "the [[summary]] name (e.g. weekly)")
	nowS := fs.String("now", "", "the time it is due at or after (RFC 3339): the period that ended before its latest scheduled time; default: now")
	preview := fs.Bool("preview", false, "render without sending: HTML to -o FILE, or to standard output")
	text := fs.Bool("text", false, "with --preview: the plain-text alternative instead of the HTML")
	out := fs.String("o", "", "with --preview: the HTML file to write (the chart embedded as a data: URL)")
	send := fs.Bool("send", false, "queue it now (once per period: a period sent before is not sent again); \"run\" delivers it")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	usage := "usage: helpdeskd summary --schedule NAME [--now T] (--preview [-o FILE.html] [--text] | --send)"
	if *name == "" || *preview == *send {
		return exitf(exitUsage, "%s", usage)
	}
	if *send && (*text || *out != "") {
		return exitf(exitUsage, "--text and -o go with --preview; %s", usage)
	}
	now, err := nowFlag(*nowS)
	if err != nil {
		return err
	}
	if *send && now.After(time.Now().Add(time.Minute)) {
		// A period sent ahead of its time would be on record before it
		// ended, and its real summary never made.
		return exitf(exitUsage, "--send --now %s: in the future; --send sends the summary due now or earlier (--preview shows any)", now.Format(time.RFC3339))
	}
	cfg, st, err := e.openConfigured()
	if err != nil {
		return err
	}
	defer st.Close()
	s := cfg.SummaryNamed(*name)
	if s == nil {
		var names []string
		for _, x := range cfg.Summaries {
			names = append(names, x.Name)
		}
		return exitf(exitUsage, "no [[summary]] named %q (configured: %s)", *name, orNone(strings.Join(names, ", ")))
	}
	eng, err := e.engine(cfg, st)
	if err != nil {
		return err
	}
	eng.Now = func() time.Time { return now }
	if *send {
		run, err := eng.SendSummary(e.ctx, s)
		if errors.Is(err, workflow.ErrSummarySent) && run.MessageID == "" {
			fmt.Fprintf(e.stdout, "summary %s of %s is on record as not sent (the summary was new to the configuration when it was due): not sent\n", s.Name, run.Period)
			return nil
		}
		if errors.Is(err, workflow.ErrSummarySent) {
			fmt.Fprintf(e.stdout, "summary %s of %s was queued already at %s: not sent again\n", s.Name, run.Period, run.QueuedAt.UTC().Format(time.RFC3339))
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "summary %s of %s queued to %s (<%s>)\n", s.Name, run.Period, strings.Join(s.To, ", "), run.MessageID)
		return nil
	}
	due, _, err := eng.SummaryPeriod(s, now)
	if err != nil {
		return err
	}
	sum, r, chart, err := eng.RenderSummary(e.ctx, st.Reader, s, due, now, "", "")
	if err != nil {
		return err
	}
	if *text {
		fmt.Fprintf(e.stdout, "Subject: %s\n\n%s", r.Subject, r.Text)
		return nil
	}
	sum.ChartSrc = workflow.DataURL(chart)
	r, err = eng.Templates.Render("summary", sum)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err := fmt.Fprint(e.stdout, r.HTML)
		return err
	}
	if err := os.WriteFile(*out, []byte(r.HTML), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "summary %s of %s written to %s\n", s.Name, sum.Period.Key, *out)
	return nil
}
