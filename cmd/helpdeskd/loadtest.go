package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/helpdeskd/helpdeskd/internal/loadgen"
	"github.com/helpdeskd/helpdeskd/internal/mailsim"
	"github.com/helpdeskd/helpdeskd/store"
)

// cmdLoadtest measures helpdeskd end to end: it fills an embedded IMAP
// server with generated mail (2-20 KB, half of it replies, a fifth with
// attachments), starts an SMTP capture, and runs this same binary as
// "helpdeskd run --once" in a child process against them, so that the
// figure is the real command's wall time and peak resident memory, not
// this harness's (the IMAP server holds all the mail in memory). It then
// checks that every message was stored exactly once.
func cmdLoadtest(e *env, args []string) error {
	fs := newFlags("loadtest", e)
	n := fs.Int("messages", 10000, "how many messages to put in the mailbox")
	dbURL := fs.String("database", "", "database URL (default: a new SQLite file in --dir); a PostgreSQL database must be empty or hold only earlier load tests")
	dir := fs.String("dir", "", "working directory (default: a new temporary directory)")
	profile := fs.Bool("profile", false, "write CPU and allocation profiles of the run into the working directory")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 1 {
		return exitf(exitUsage, "--messages must be at least 1")
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "helpdeskd-loadtest-")
		if err != nil {
			return err
		}
		*dir = d
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	if *dbURL == "" {
		*dbURL = "sqlite:" + filepath.Join(*dir, "helpdeskd.db")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	const address = "support@example.com"
	pass := randomHex(8)
	imapSrv, err := mailsim.StartIMAP(address, pass, mailsim.IMAPOptions{})
	if err != nil {
		return fmt.Errorf("start embedded IMAP server: %w", err)
	}
	defer imapSrv.Close()
	smtpSrv, err := mailsim.StartSMTP(mailsim.SMTPOptions{CountOnly: true})
	if err != nil {
		return fmt.Errorf("start embedded SMTP server: %w", err)
	}
	defer smtpSrv.Close()

	seed := uint64(time.Now().UnixNano())
	var bytesTotal int
	for _, m := range loadgen.Messages(*n, seed) {
		bytesTotal += len(m)
		if err := imapSrv.Append("INBOX", m); err != nil {
			return err
		}
	}
	cfgPath := filepath.Join(*dir, "helpdeskd.toml")
	cfg := fmt.Sprintf(`[helpdesk]
address = %q
auto_reply_limit = 1000000

[database]
url = %q

[imap]
host = "127.0.0.1"
port = %d
security = "none"
username = %q
password = %q

[smtp]
host = "127.0.0.1"
port = %d
security = "none"
from = %q
`, address, *dbURL, imapSrv.Port, address, pass, smtpSrv.Port, address)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(*dir, "run.log")
	var peakKB int64      // of the last child
	var started time.Time // of the last child
	child := func(args ...string) (time.Duration, *syscall.Rusage, error) {
		peakKB = 0
		logf, err := os.Create(logPath)
		if err != nil {
			return 0, nil, err
		}
		defer logf.Close()
		cmd := exec.CommandContext(e.ctx, self, append([]string{"-config", cfgPath, "-log-level", "info"}, args...)...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = os.Environ()
		if *profile && args[0] == "run" {
			cmd.Env = append(cmd.Env, "HELPDESKD_PROFILE_DIR="+*dir)
		}
		start := time.Now()
		started = start
		if err := cmd.Start(); err != nil {
			return 0, nil, err
		}
		// The child's peak resident memory: VmHWM, polled, since
		// getrusage's ru_maxrss of a child also counts the memory of
		// this process at fork time (Linux carries it across exec).
		done, polled := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(polled)
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				if kb := vmHWM(cmd.Process.Pid); kb > peakKB {
					peakKB = kb
				}
				select {
				case <-done:
					return
				case <-t.C:
				}
			}
		}()
		err = cmd.Wait()
		took := time.Since(start)
		close(done)
		<-polled
		var ru *syscall.Rusage
		if cmd.ProcessState != nil {
			ru, _ = cmd.ProcessState.SysUsage().(*syscall.Rusage)
		}
		if err != nil {
			return took, ru, fmt.Errorf("helpdeskd %s: %w (log: %s)", strings.Join(args, " "), err, logPath)
		}
		return took, ru, nil
	}
	if _, _, err := child("migrate"); err != nil {
		return err
	}
	st, err := store.Open(e.ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	before, err := countRows(e.ctx, st)
	if err != nil {
		return err
	}
	took, ru, err := child("run", "--once")
	if err != nil {
		return err
	}
	after, err := countRows(e.ctx, st)
	if err != nil {
		return err
	}
	stored := after - before
	rss := float64(peakKB) / 1024
	w := e.stdout
	fmt.Fprintf(w, "helpdeskd loadtest: %d messages (%.1f MB) through IMAP, workflow (%s) and SMTP in one \"run --once\"\n",
		*n, float64(bytesTotal)/1e6, st.Dialect())
	fmt.Fprintf(w, "  wall time        %.2f s\n", took.Seconds())
	fmt.Fprintf(w, "  throughput       %.0f messages/s\n", float64(*n)/took.Seconds())
	if intakeDone, tickDone, ok := phases(logPath); ok {
		in := intakeDone.Sub(started)
		out := started.Add(took).Sub(tickDone)
		fmt.Fprintf(w, "  intake           %.2f s, %.0f messages/s (start-up, IMAP, parsing, database)\n", in.Seconds(), float64(*n)/in.Seconds())
		fmt.Fprintf(w, "  delivery         %.2f s, %.0f mails/s (SMTP, marking sent)\n", out.Seconds(), float64(smtpSrv.Count())/out.Seconds())
	}
	if ru != nil {
		fmt.Fprintf(w, "  cpu              %.2f s user, %.2f s system\n",
			time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds())
	}
	fmt.Fprintf(w, "  peak RSS         %.0f MB (VmHWM of the run, sampled every 20 ms)\n", rss)
	fmt.Fprintf(w, "  stored           %d messages\n", stored)
	fmt.Fprintf(w, "  mail sent        %d acknowledgements\n", smtpSrv.Count())
	fmt.Fprintf(w, "  work directory   %s\n", *dir)
	if stored != int64(*n) {
		return errors.New("not every message was stored exactly once: see " + logPath)
	}
	return nil
}

func countRows(ctx context.Context, st *store.Store) (int64, error) {
	var n int64
	err := st.DB().GetContext(ctx, &n, `SELECT COUNT(*) FROM messages WHERE direction = 'in'`)
	return n, err
}

// vmHWM reads a process's peak resident set size in kB (0 when gone).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb
		}
	}
	return 0
}

// phases finds when the run logged "intake done" and "tick done" (the
// outbox flush follows the tick).
func phases(logPath string) (intakeDone, tickDone time.Time, ok bool) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return
	}
	at := func(line string) time.Time {
		f := strings.Fields(line)
		if len(f) == 0 {
			return time.Time{}
		}
		t, _ := time.Parse(time.RFC3339Nano, strings.TrimPrefix(f[0], "time="))
		return t
	}
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.Contains(line, `msg="intake done"`):
			intakeDone = at(line)
		case strings.Contains(line, `msg="tick done"`):
			tickDone = at(line)
		}
	}
	return intakeDone, tickDone, !intakeDone.IsZero() && !tickDone.IsZero()
}
