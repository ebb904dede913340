package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/helpdeskd/helpdeskd/workflow"
)

// cmdIngest reads messages from files, or one from stdin (an MTA pipe),
// and commits them. Exit status: 0 all stored; 65 a message was kept in
// quarantine; 75 nothing could be committed, try again later (the MTA
// keeps the mail queued). A broken configuration also exits 75 here, not
// 2: an MTA bounces mail on any status but 0 and 75, and mail must not be
// lost while an administrator fixes a typo.
func cmdIngest(e *env, args []string) error {
	fs := newFlags("ingest", e)
	asJSON := fs.Bool("json", false, "print one JSON line per message")
	nowS := fs.String("now", "", "the time the messages are received at (RFC 3339), as run --once --now: for trials and replays; default: now")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var at time.Time
	if *nowS != "" {
		if at, err = nowFlag(*nowS); err != nil {
			return err
		}
	}
	var batch []workflow.Inbound
	if len(files) == 0 {
		raw, err := io.ReadAll(e.stdin)
		if err != nil {
			return exitf(exitTempFail, "read stdin: %v", err)
		}
		batch = append(batch, workflow.Inbound{Raw: raw, Source: workflow.Source{Kind: "stdin"}})
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return exitf(exitTempFail, "read %s: %v", f, err)
		}
		batch = append(batch, workflow.Inbound{Raw: raw, Source: workflow.Source{Kind: "file", Name: f}})
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return &exitError{code: exitTempFail, err: err}
	}
	st, err := e.openStore(cfg, true)
	if err != nil {
		return &exitError{code: exitTempFail, err: err}
	}
	defer st.Close()
	eng, err := e.engine(cfg, st)
	if err != nil {
		return &exitError{code: exitTempFail, err: err}
	}
	if !at.IsZero() {
		eng.Now = func() time.Time { return at.UTC() }
	}
	code := exitOK
	enc := json.NewEncoder(e.stdout)
	for start := 0; start < len(batch); start += cfg.Intake.BatchSize {
		part := batch[start:min(start+cfg.Intake.BatchSize, len(batch))]
		results, err := eng.Ingest(e.ctx, part, nil)
		if err != nil {
			return &exitError{code: exitTempFail, err: fmt.Errorf("not committed, try again later: %w", err)}
		}
		for _, r := range results {
			if r.Outcome == workflow.OutcomeQuarantined {
				code = exitDataErr
			}
			if *asJSON {
				if err := enc.Encode(r); err != nil {
					return err
				}
				continue
			}
			line := fmt.Sprintf("%s: %s", r.Source, r.Outcome)
			if r.Incident != "" {
				line += " " + r.Incident
			}
			if r.Reason != "" {
				line += " (" + r.Reason + ")"
			}
			fmt.Fprintln(e.stdout, line)
		}
	}
	if code != exitOK {
		return &exitError{code: code, err: fmt.Errorf("a message could not be read and was kept in quarantine (see: helpdeskd quarantine list)")}
	}
	return nil
}
