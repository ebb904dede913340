package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

func cmdIncidents(e *env, args []string) error {
	fs := newFlags("incidents", e)
	asJSON := fs.Bool("json", false, "JSON output")
	all := fs.Bool("all", false, "include resolved and closed incidents")
	nowS := fs.String("now", "", "the time report statuses are judged at (RFC 3339: an owed report past due is \"overdue\"); default: now")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	now, err := nowFlag(*nowS)
	if err != nil {
		return err
	}
	_, st, err := e.openConfigured()
	if err != nil {
		return err
	}
	defer st.Close()
	incs, err := st.ListIncidents(e.ctx, *all)
	if err != nil {
		return err
	}
	views := make([]workflow.IncidentView, len(incs))
	for i := range incs {
		views[i] = workflow.NewIncidentView(&incs[i])
		views[i].AtTime(now)
	}
	if *asJSON {
		return writeJSON(e.stdout, views)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSTATUS\tPRIO\tCREATED (UTC)\tMSGS\tPROBLEM\tREQUESTER\tSUBJECT")
	for _, v := range views {
		prio := v.Priority
		if v.Major {
			prio += " major"
			if v.ReportStatus != "none" {
				prio += ", report " + v.ReportStatus
			}
		}
		problem := "-"
		if v.Problem != nil {
			problem = *v.Problem
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%s\t%s\n", v.Key, v.Status, prio,
			v.CreatedAt.UTC().Format("2006-01-02 15:04"), v.Messages, problem, v.Requester, clip(v.Subject, 60))
	}
	return tw.Flush()
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func cmdShow(e *env, args []string) error {
	fs := newFlags("show", e)
	asJSON := fs.Bool("json", false, "JSON output")
	nowS := fs.String("now", "", "the time the clocks are told at (RFC 3339), as a \"run --once --now\" left them; default: now")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return exitf(exitUsage, "usage: show KEY [--json] [--now T]")
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
	key := strings.ToUpper(pos[0])
	if strings.HasPrefix(key, "PRB-") {
		return showProblem(e, st, key, *asJSON)
	}
	v, err := workflow.ShowIncident(e.ctx, st.Reader, key)
	if errors.Is(err, store.ErrNotFound) {
		return exitf(exitFailure, "no incident %s", key)
	}
	if err != nil {
		return err
	}
	if v.Clock, err = workflow.ClockStory(e.ctx, cfg, st.Reader, key, now); err != nil {
		return err
	}
	v.AtTime(now)
	if *asJSON {
		return writeJSON(e.stdout, v)
	}
	w := e.stdout
	fmt.Fprintf(w, "%s  %s\n", v.Key, v.Subject)
	fmt.Fprintf(w, "status %s, priority %s, requester %s, opened %s\n", v.Status, v.Priority, v.Requester, v.CreatedAt.Format(time.RFC3339))
	if v.Assignee != "" || v.Category != "" {
		fmt.Fprintf(w, "assigned to %s, category %s\n", orNone(v.Assignee), orNone(v.Category))
	}
	if v.FirstResponseAt != nil {
		fmt.Fprintf(w, "first response %s\n", v.FirstResponseAt.Format(time.RFC3339))
	}
	if v.ResolvedAt != nil {
		fmt.Fprintf(w, "resolved %s\n", v.ResolvedAt.Format(time.RFC3339))
	}
	if len(v.Clock) > 0 {
		fmt.Fprintf(w, "\nSLA (%s), escalation level %d", v.SLA, v.EscalationLevel)
		if v.AcknowledgedBy != "" {
			fmt.Fprintf(w, ", breach acknowledged by %s", v.AcknowledgedBy)
		}
		fmt.Fprintln(w, ":")
		for _, l := range v.Clock {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if r := v.Report; r != nil {
		printReport(w, v)
	}
	printThread(w, v.Messages.([]workflow.MessageView), v.Events)
	return nil
}

// nowFlag reads a --now flag: RFC 3339, default the host's clock.
func nowFlag(s string) (time.Time, error) {
	if s == "" {
		return time.Now().UTC(), nil
	}
	now, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, exitf(exitUsage, "--now: want RFC 3339 (2026-11-30T07:30:00Z), got %q", s)
	}
	return now, nil
}

// printReport prints a major incident's report: its status, who sent it,
// its sections, and its reminders and escalations.
func printReport(w io.Writer, v *workflow.IncidentView) {
	r := v.Report
	when := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	if v.Major {
		fmt.Fprintf(w, "\nmajor incident; report %s", r.Status)
	} else {
		fmt.Fprintf(w, "\nno longer a major incident; report %s", r.Status)
	}
	if r.RequestedAt != nil {
		fmt.Fprintf(w, ", requested %s, due %s", when(r.RequestedAt), when(r.Due))
	}
	if r.From != "" {
		fmt.Fprintf(w, ", last from %s at %s", r.From, when(r.ReceivedAt))
	}
	fmt.Fprintln(w)
	for _, s := range r.Sections {
		fmt.Fprintf(w, "  %s:\n", s.Name)
		for _, l := range strings.Split(clip(s.Text, 1000), "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	if len(r.Missing) > 0 {
		fmt.Fprintf(w, "  missing: %s\n", strings.Join(r.Missing, ", "))
	}
	for _, n := range r.Notices {
		fmt.Fprintf(w, "  %s UTC %s: %s\n", n.At.Format("2006-01-02 15:04"), n.Kind, n.Detail)
	}
}

// printThread prints the messages and events of an incident or problem.
func printThread(w io.Writer, msgs []workflow.MessageView, events []workflow.EventView) {
	fmt.Fprintln(w, "\nmessages:")
	for _, m := range msgs {
		arrow := "←"
		who := m.From
		if m.Direction == "out" {
			arrow, who = "→", m.To
		}
		fmt.Fprintf(w, "  %s %s %s %s [%s] %s\n", m.ReceivedAt.Format("2006-01-02 15:04"), arrow, who, clip(m.Subject, 50), m.Kind, m.Status)
		if m.ThreadReason != "" {
			fmt.Fprintf(w, "      (%s)\n", m.ThreadReason)
		}
		if m.Direction == "in" {
			for _, l := range strings.Split(clip(m.NewText, 400), "\n") {
				fmt.Fprintf(w, "      | %s\n", l)
			}
		}
		for _, a := range m.Attachments {
			verb := "attachment"
			if m.Direction == "out" {
				verb = "forwards"
			}
			fmt.Fprintf(w, "      %s [%d] %s (%s, %d bytes)\n", verb, a.Index, a.Filename, a.ContentType, a.Size)
		}
	}
	fmt.Fprintln(w, "\nevents:")
	for _, ev := range events {
		fmt.Fprintf(w, "  %s %-16s %s: %s\n", ev.At.Format("2006-01-02 15:04:05"), ev.Kind, ev.Actor, ev.Detail)
	}
}

func cmdProblems(e *env, args []string) error {
	fs := newFlags("problems", e)
	asJSON := fs.Bool("json", false, "JSON output")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	_, st, err := e.openConfigured()
	if err != nil {
		return err
	}
	defer st.Close()
	ps, err := st.ListProblems(e.ctx)
	if err != nil {
		return err
	}
	views := make([]workflow.ProblemView, len(ps))
	for i := range ps {
		views[i] = workflow.NewProblemView(&ps[i])
	}
	if *asJSON {
		return writeJSON(e.stdout, views)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSTATUS\tCREATED\tINCIDENTS\tTITLE")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", v.Key, v.Status, v.CreatedAt.Format("2006-01-02 15:04"), v.Incidents, clip(v.Title, 60))
	}
	return tw.Flush()
}

func showProblem(e *env, st *store.Store, key string, asJSON bool) error {
	v, err := workflow.ShowProblem(e.ctx, st.Reader, key)
	if errors.Is(err, store.ErrNotFound) {
		return exitf(exitFailure, "no problem %s", key)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e.stdout, v)
	}
	w := e.stdout
	fmt.Fprintf(w, "%s  %s\nstatus %s, opened %s\n", v.Key, v.Title, v.Status, v.CreatedAt.Format(time.RFC3339))
	for _, f := range []struct{ name, value string }{{"root cause", v.RootCause}, {"workaround", v.Workaround}, {"fix", v.Fix}} {
		if f.value != "" {
			fmt.Fprintf(w, "%s: %s\n", f.name, f.value)
		}
	}
	fmt.Fprintln(w, "\nincidents:")
	for _, inc := range v.Incidents.([]workflow.IncidentView) {
		fmt.Fprintf(w, "  %s  %s  %s  %s  %s\n", inc.Key, inc.Status, inc.CreatedAt.Format("2006-01-02 15:04"), inc.Requester, clip(inc.Subject, 60))
	}
	printThread(w, v.Messages, v.Events)
	return nil
}

func cmdQuarantine(e *env, args []string) error {
	fs := newFlags("quarantine", e)
	all := fs.Bool("all", false, "with reprocess: every held message")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		pos = []string{"list"}
	}
	cfg, st, err := e.openConfigured()
	if err != nil {
		return err
	}
	defer st.Close()
	switch pos[0] {
	case "list":
		items, err := st.ListQuarantine(e.ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tSIZE\tRECEIVED\tSOURCE\tREASON")
		for _, q := range items {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", q.ID, q.Status, q.Size, q.CreatedAt.UTC().Format("2006-01-02 15:04"), q.Source, clip(oneLine(q.Reason), 80))
		}
		return tw.Flush()
	case "show":
		if len(pos) != 2 {
			return exitf(exitUsage, "usage: quarantine show ID")
		}
		id, err := strconv.ParseInt(pos[1], 10, 64)
		if err != nil {
			return exitf(exitUsage, "quarantine show: %q is not an id", pos[1])
		}
		q, err := st.GetQuarantine(e.ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return exitf(exitFailure, "no quarantined message %d", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "quarantine #%d (%s) from %s: %s\n", q.ID, q.Status, q.Source, q.Reason)
		_, err = e.stdout.Write(q.Raw)
		return err
	case "reprocess":
		eng, err := e.engine(cfg, st)
		if err != nil {
			return err
		}
		var ids []int64
		if *all {
			items, err := st.ListQuarantine(e.ctx)
			if err != nil {
				return err
			}
			for _, q := range items {
				if q.Status == "held" {
					ids = append(ids, q.ID)
				}
			}
		} else {
			if len(pos) != 2 {
				return exitf(exitUsage, "usage: quarantine reprocess ID | reprocess --all")
			}
			id, err := strconv.ParseInt(pos[1], 10, 64)
			if err != nil {
				return exitf(exitUsage, "quarantine reprocess: %q is not an id", pos[1])
			}
			ids = []int64{id}
		}
		for _, id := range ids {
			r, err := eng.Reprocess(e.ctx, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "quarantine #%d: %s %s %s\n", id, r.Outcome, r.Incident, r.Reason)
		}
		return nil
	}
	return exitf(exitUsage, "usage: quarantine [list|show ID|reprocess ID|reprocess --all]")
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
