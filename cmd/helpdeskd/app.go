package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailbox"
	"github.com/helpdeskd/helpdeskd/mailer"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/templates"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit statuses (sysexits.h where one fits).
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2 // also: configuration errors
	exitDataErr  = 65
	exitTempFail = 75
)

// exitError carries an exit status up to run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// env is what every subcommand gets.
type env struct {
	ctx        context.Context
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
	configPath string
	log        *slog.Logger
}

type command struct {
	name  string
	usage string
	run   func(e *env, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"run", "run [--once] [--now RFC3339]        the daemon: intake, ticks, outbox delivery", cmdRun},
		{"ingest", "ingest [--json] [FILE…]             ingest messages from files or stdin (MTA pipe)", cmdIngest},
		{"migrate", "migrate                             apply database migrations", cmdMigrate},
		{"check-config", "check-config [--connect]            validate the configuration; --connect logs in to IMAP and SMTP", cmdCheckConfig},
		{"incidents", "incidents [--json] [--all] [--now T]  open (or all) incidents", cmdIncidents},
		{"show", "show KEY [--json] [--now T]         one incident (HD-N) with its messages and events, or a problem (PRB-N)", cmdShow},
		{"attachment", "attachment KEY INDEX -o FILE        write an incident's attachment (numbered by show) to FILE", cmdAttachment},
		{"resolve", adminUsage["resolve"], cmdAdmin("resolve")},
		{"close", adminUsage["close"], cmdAdmin("close")},
		{"reopen", adminUsage["reopen"], cmdAdmin("reopen")},
		{"assign", adminUsage["assign"], cmdAdmin("assign")},
		{"priority", adminUsage["priority"], cmdAdmin("priority")},
		{"note", adminUsage["note"], cmdAdmin("note")},
		{"major", adminUsage["major"], cmdAdmin("major")},
		{"accept", adminUsage["accept"], cmdAdmin("accept")},
		{"reject", adminUsage["reject"], cmdAdmin("reject")},
		{"problems", "problems [--json]                   problems: recurring issues and their incidents", cmdProblems},
		{"similar", "similar [--json] [--now T] [-n N] SUBJECT  why a subject would (not) count as a repeat: its fingerprint and the most similar incidents", cmdSimilar},
		{"rasci", "rasci [--json]                      who is responsible, accountable, supporting, consulted, informed, per category", cmdRASCI},
		{"summary", "summary --schedule NAME [--now T] (--preview [-o FILE.html] [--text] | --send)  an accountability summary", cmdSummary},
		{"register", "register [--format csv|json|xlsx] [--from DATE] [--to DATE] [-o FILE]  the register of incidents and problems", cmdRegister},
		{"quarantine", "quarantine [list|show ID|reprocess ID|reprocess --all]", cmdQuarantine},
		{"demo", "demo [--serve] [--dir DIR]          everything embedded: a scripted scenario", cmdDemo},
		{"loadtest", "loadtest [--messages N] [--database URL]  measure run --once end to end", cmdLoadtest},
		{"version", "version                             print the version", cmdVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: helpdeskd [-config FILE] [-log-level debug|info|warn|error] [-log-format text|json] COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintln(w, "  "+c.usage)
	}
	fmt.Fprintln(w, "\nThe config file defaults to $HELPDESKD_CONFIG, then ./helpdeskd.toml, then /etc/helpdeskd/config.toml.")
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("helpdeskd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(stderr) }
	cfgPath := fs.String("config", "", "configuration file")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	format := fs.String("log-format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		usage(stderr)
		return exitUsage
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "helpdeskd: -log-level: %v\n", err)
		return exitUsage
	}
	var h slog.Handler
	switch *format {
	case "text":
		h = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv})
	case "json":
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lv})
	default:
		fmt.Fprintf(stderr, "helpdeskd: -log-format: want text or json, got %q\n", *format)
		return exitUsage
	}
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, configPath: *cfgPath, log: slog.New(h)}
	name, rest := fs.Arg(0), fs.Args()[1:]
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(e, rest)
		if err == nil {
			return exitOK
		}
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "helpdeskd %s: %v\n", name, err)
		var xe *exitError
		switch {
		case errors.As(err, &xe):
			return xe.code
		case config.IsConfigError(err):
			return exitUsage
		default:
			return exitFailure
		}
	}
	fmt.Fprintf(stderr, "helpdeskd: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

// resolveConfigPath applies the documented search order.
func (e *env) resolveConfigPath() string {
	if e.configPath != "" {
		return e.configPath
	}
	if p := os.Getenv("HELPDESKD_CONFIG"); p != "" {
		return p
	}
	if _, err := os.Stat("helpdeskd.toml"); err == nil {
		return "helpdeskd.toml"
	}
	return "/etc/helpdeskd/config.toml"
}

func (e *env) loadConfig() (*config.Config, error) {
	return config.Load(e.resolveConfigPath())
}

// openStore opens the database, applies pending migrations when migrate
// is true, and checks the schema.
func (e *env) openStore(cfg *config.Config, migrate bool) (*store.Store, error) {
	st, err := store.Open(e.ctx, cfg.Database.URL)
	if err != nil {
		return nil, err
	}
	if migrate {
		n, err := st.Migrate(e.ctx)
		if err != nil {
			st.Close()
			return nil, err
		}
		if n > 0 {
			e.log.Info("database migrated", "applied", n, "version", st.LatestVersion())
		}
	}
	if err := st.Ready(e.ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// openConfigured loads the configuration and opens a ready store without
// migrating (the read-only commands).
func (e *env) openConfigured() (*config.Config, *store.Store, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	st, err := e.openStore(cfg, false)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

func (e *env) engine(cfg *config.Config, st *store.Store) (*workflow.Engine, error) {
	tmpl, err := templates.Load()
	if err != nil {
		return nil, err
	}
	return workflow.NewEngine(st, cfg, tmpl, e.log), nil
}

func newFlags(name string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("helpdeskd "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses flags anywhere among the arguments ("show HD-1 --json").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func cmdVersion(e *env, args []string) error {
	fmt.Fprintln(e.stdout, "helpdeskd", version)
	return nil
}

func cmdCheckConfig(e *env, args []string) error {
	fs := newFlags("check-config", e)
	connect := fs.Bool("connect", false, "also log in to the IMAP and SMTP servers (and quit)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: ok (database %s", cfg.Path, cfg.RedactedDatabaseURL())
	if cfg.IMAP.Host != "" {
		fmt.Fprintf(e.stdout, ", imap %s@%s:%d/%s", cfg.IMAP.Username, cfg.IMAP.Host, cfg.IMAP.Port, cfg.IMAP.Folder)
	} else {
		fmt.Fprint(e.stdout, ", no imap intake")
	}
	if cfg.SMTP.Host != "" {
		fmt.Fprintf(e.stdout, ", smtp %s:%d", cfg.SMTP.Host, cfg.SMTP.Port)
	}
	fmt.Fprintln(e.stdout, ")")
	if len(cfg.Commands.TrustedAuthservIDs) == 0 && !cfg.Commands.VerifyDKIM {
		fmt.Fprintln(e.stdout, "warning: [commands] trusted_authserv_ids is empty and verify_dkim is off: no mail can be authenticated, so "+
			"no command by email runs, no reply reaches the requester or a provider (a requester's reaches an in-house team, marked not verified), "+
			"no first response is counted from mail; use the administrator commands on the host, or see README \"The MTA side\"")
	}
	if !*connect {
		return nil
	}
	var failed []string
	if cfg.IMAP.Host != "" {
		if err := mailbox.CheckLogin(e.ctx, cfg.IMAP); err != nil {
			fmt.Fprintf(e.stdout, "imap: FAILED: %v\n", err)
			failed = append(failed, "imap")
		} else {
			fmt.Fprintf(e.stdout, "imap: ok (logged in as %s at %s:%d, selected %s)\n", cfg.IMAP.Username, cfg.IMAP.Host, cfg.IMAP.Port, cfg.IMAP.Folder)
		}
	}
	if cfg.SMTP.Host != "" {
		if err := mailer.New(nil, cfg, e.log).CheckLogin(e.ctx); err != nil {
			fmt.Fprintf(e.stdout, "smtp: FAILED: %v\n", err)
			failed = append(failed, "smtp")
		} else if cfg.SMTP.Username != "" {
			fmt.Fprintf(e.stdout, "smtp: ok (logged in as %s at %s:%d)\n", cfg.SMTP.Username, cfg.SMTP.Host, cfg.SMTP.Port)
		} else {
			fmt.Fprintf(e.stdout, "smtp: ok (%s:%d answered; no login configured)\n", cfg.SMTP.Host, cfg.SMTP.Port)
		}
	}
	if len(failed) > 0 {
		return exitf(exitFailure, "cannot connect: %s", strings.Join(failed, ", "))
	}
	return nil
}

func cmdMigrate(e *env, args []string) error {
	fs := newFlags("migrate", e)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	st, err := store.Open(e.ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Migrate(e.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "applied %d migration(s); schema version %d\n", n, st.LatestVersion())
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
