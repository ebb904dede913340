package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/register"
)

func cmdRegister(e *env, args []string) error {
	fs := newFlags("register", e)
	format := fs.String("format", "csv", "csv, json or xlsx")
	fromS := fs.String("from", "", "first day (YYYY-MM-DD, in the [helpdesk] timezone) of the incidents' opening; default: the first")
	toS := fs.String("to", "", "last day (YYYY-MM-DD, inclusive); default: the last")
	out := fs.String("o", "", "output file (csv: also FILE-problems.csv); default: standard output")
	nowS := fs.String("now", "", "the time the open incidents' breaches are measured to (RFC 3339); default: now")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	switch *format {
	case "csv", "json", "xlsx":
	default:
		return exitf(exitUsage, "--format: want csv, json or xlsx, got %q", *format)
	}
	cfg, st, err := e.openConfigured()
	if err != nil {
		return err
	}
	defer st.Close()
	loc := cfg.Helpdesk.Location
	if loc == nil {
		loc = time.UTC
	}
	now, err := nowFlag(*nowS)
	if err != nil {
		return err
	}
	from, to, err := registerRange(*fromS, *toS, loc)
	if err != nil {
		return err
	}
	write := func(w, problems io.Writer) error {
		err := register.Write(e.ctx, st.Reader, cfg, now, *format, from, to, "", w, problems)
		if errors.Is(err, register.ErrTooManyRows) {
			return exitf(exitDataErr, "%v", err)
		}
		return err
	}
	if *out == "" {
		if *format == "csv" {
			fmt.Fprintln(e.stderr, "helpdeskd register: problems are written only with -o FILE (to FILE-problems.csv)")
		}
		w := bufio.NewWriterSize(e.stdout, 64<<10)
		if err := write(w, nil); err != nil {
			return err
		}
		return w.Flush()
	}
	var probPath string
	if *format == "csv" {
		probPath = strings.TrimSuffix(*out, ".csv") + "-problems.csv"
	}
	return writeFileAtomic(*out, func(w io.Writer) error {
		if probPath == "" {
			return write(w, nil)
		}
		return writeFileAtomic(probPath, func(pw io.Writer) error {
			return write(w, pw)
		})
	})
}

// registerRange turns --from and --to (local days, inclusive) into the
// instants [from, to); empty strings are unbounded (zero times).
func registerRange(fromS, toS string, loc *time.Location) (from, to time.Time, err error) {
	day := func(flag, s string) (time.Time, error) {
		d, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			return time.Time{}, exitf(exitUsage, "%s: want a date YYYY-MM-DD, got %q", flag, s)
		}
		return d, nil
	}
	if fromS != "" {
		if from, err = day("--from", fromS); err != nil {
			return
		}
	}
	if toS != "" {
		var d time.Time
		if d, err = day("--to", toS); err != nil {
			return
		}
		// The day after, at midnight on the wall clock (not +24h: a DST
		// day has 23 or 25 hours).
		to = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		if !from.IsZero() && !to.After(from) {
			return from, to, exitf(exitUsage, "--to %s is before --from %s", toS, fromS)
		}
	}
	return from, to, nil
}

// writeFileAtomic writes a file through fn into a temporary file beside
// it, renamed into place when fn succeeds.
func writeFileAtomic(path string, fn func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriterSize(f, 64<<10)
	if err := fn(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
