package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// adminUsage is each administrator command's argument.
var adminUsage = map[string]string{
	"resolve":  "resolve KEY [TEXT…]                 resolve; the requester is told, with TEXT",
	"close":    "close KEY                           close",
	"reopen":   "reopen KEY                          reopen",
	"assign":   "assign KEY NAME                     assign to a team or provider, which is notified",
	"priority": "priority KEY P1..P5                 set the priority",
	"note":     "note KEY TEXT…                      an internal note on the audit trail",
	"major":    "major KEY [off]                     declare a major incident, or undo it",
	"accept":   "accept KEY                          accept a major incident's received report",
	"reject":   "reject KEY REASON…                  send a major incident's report back; its sender is told REASON",
}

// adminActor is who the audit trail names for a command on the host:
// "admin:" and the Unix user the process runs as (the operating system
// vouches for it). A user that sudo names (SUDO_USER) is added, said to
// come from sudo: any environment can set that variable, so it is not
// taken for the user itself.
func adminActor() string {
	name := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if s := os.Getenv("SUDO_USER"); s != "" && s != name {
		name += " (sudo by " + s + ")"
	}
	return "admin:" + name
}

// cmdAdmin runs an incident command on the host (see workflow.Engine.Admin).
// Exit 0 done; 1 no such incident, or the command was refused (bad
// argument: nothing changed); 2 usage.
func cmdAdmin(name string) func(e *env, args []string) error {
	return func(e *env, args []string) error {
		fs := newFlags(name, e)
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		usage := "usage: helpdeskd " + adminUsage[name]
		need := map[string]int{"resolve": 1, "close": 1, "reopen": 1, "assign": 2, "priority": 2, "note": 2,
			"major": 1, "accept": 1, "reject": 2}[name]
		switch {
		case len(pos) < need:
			return exitf(exitUsage, "%s", usage)
		case (name == "close" || name == "reopen" || name == "accept") && len(pos) > 1,
			(name == "assign" || name == "priority" || name == "major") && len(pos) > 2:
			return exitf(exitUsage, "%s: unexpected %q", usage, strings.Join(pos[need:], " "))
		}
		key := strings.ToUpper(pos[0])
		text := strings.Join(pos[1:], " ")
		if name == "note" && strings.TrimSpace(text) == "" {
			return exitf(exitUsage, "the note's TEXT is empty; %s", usage)
		}
		cfg, st, err := e.openConfigured()
		if err != nil {
			return err
		}
		defer st.Close()
		eng, err := e.engine(cfg, st)
		if err != nil {
			return err
		}
		res, err := eng.Admin(e.ctx, key, name, text, adminActor())
		var refused *workflow.RefusedError
		switch {
		case errors.Is(err, store.ErrNotFound):
			return exitf(exitFailure, "no incident %s", key)
		case errors.As(err, &refused):
			return exitf(exitFailure, "%s %s", key, refused.Error())
		case err != nil:
			return err
		}
		fmt.Fprintln(e.stdout, res)
		return nil
	}
}

// cmdAttachment writes one attachment of an incident to a file.
func cmdAttachment(e *env, args []string) error {
	fs := newFlags("attachment", e)
	out := fs.String("o", "", "the file to write (\"-\": standard output)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	const usage = "usage: helpdeskd attachment KEY INDEX -o FILE (INDEX as numbered by show KEY)"
	if len(pos) != 2 || *out == "" {
		return exitf(exitUsage, usage)
	}
	key := strings.ToUpper(pos[0])
	index, err := strconv.Atoi(pos[1])
	if err != nil || index < 1 {
		return exitf(exitUsage, "INDEX must be a number from 1, got %q; %s", pos[1], usage)
	}
	cfg, st, err := e.openConfigured()
	if err != nil {
		return err
	}
	defer st.Close()
	v, data, err := workflow.ExtractAttachment(e.ctx, st.Reader, workflow.ParseOptions(cfg), key, index)
	var none *workflow.NoAttachmentError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return exitf(exitFailure, "no incident %s", key)
	case errors.As(err, &none):
		return exitf(exitFailure, "%s", none.Error())
	case err != nil:
		return err
	}
	if *out == "-" {
		_, err = e.stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o600); err != nil {
		return exitf(exitFailure, "%v", err)
	}
	fmt.Fprintf(e.stderr, "%s attachment %d: %s (%s, %d bytes) written to %s\n", key, index, v.Filename, v.ContentType, len(data), *out)
	return nil
}
