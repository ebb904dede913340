// Package extract reads the text of an attached report document (PDF or
// DOCX, workflow/majorreport) in a child process with bounded memory and
// time, so that a document made to exhaust the reader cannot take the
// daemon with it.
//
// The PDF library follows object references and sizes tables from
// numbers in the file; files of a few hundred bytes were found that make
// it recurse until the stack overflows, loop forever, or allocate
// gigabytes. Go cannot recover from a stack overflow or an out-of-memory
// error, nor stop a goroutine that never returns: only a process can be
// bounded and killed. The child is helpdeskd itself (os.Executable) with
// a hidden first argument; main, and the TestMain of a test binary that
// extracts documents, call ServeIfChild first.
package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/helpdeskd/helpdeskd/workflow/majorreport"
)

// childArg is the hidden first argument that makes a helpdeskd process
// the extractor.
const childArg = "__helpdeskd-extract-document"

// MemoryLimit bounds the child's data segment (RLIMIT_DATA: its heap and
// stacks), in bytes: a document that needs more is refused as too large.
const MemoryLimit = 512 << 20

// TimeLimit bounds one extraction: a child still reading after it is
// killed and the document refused as too large. A variable for tests.
var TimeLimit = 30 * time.Second

// result is what the child writes to its standard output.
type result struct {
	Text string `json:"text"`
	Err  string `json:"error,omitempty"`
	Kind string `json:"kind,omitempty"` // too_large, malformed, no_text, unsupported
}

var kinds = []struct {
	name string
	err  error
}{
	{"too_large", majorreport.ErrTooLarge},
	{"malformed", majorreport.ErrMalformed},
	{"no_text", majorreport.ErrNoText},
	{"unsupported", majorreport.ErrUnsupported},
}

// ServeIfChild makes this process the extractor when it was started as
// one (by Text): it reads the document from standard input, writes the
// result to standard output and exits. Otherwise it returns at once.
func ServeIfChild() {
	if len(os.Args) < 4 || os.Args[1] != childArg {
		return
	}
	os.Exit(child(os.Args[2], os.Args[3], os.Stdin, os.Stdout))
}

func child(contentType, filename string, in io.Reader, out io.Writer) int {
	lim := uint64(MemoryLimit)
	if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: lim, Max: lim}); err != nil {
		fmt.Fprintf(os.Stderr, "extract: memory limit: %v\n", err)
		return 3
	}
	debug.SetMaxStack(64 << 20)
	debug.SetMemoryLimit(MemoryLimit / 2)
	data, err := io.ReadAll(io.LimitReader(in, majorreport.MaxDocumentBytes+1))
	if err != nil {
		fmt.Fprintf(os.Stderr, "extract: reading the document: %v\n", err)
		return 3
	}
	text, err := majorreport.DocumentText(filename, contentType, data)
	r := result{Text: text}
	if err != nil {
		r.Err, r.Kind = err.Error(), "malformed"
		for _, k := range kinds {
			if errors.Is(err, k.err) {
				r.Kind = k.name
				break
			}
		}
	}
	if err := json.NewEncoder(out).Encode(r); err != nil {
		return 3
	}
	return 0
}

// Text extracts the text of a PDF or DOCX as majorreport.DocumentText
// does, in a child process bounded by MemoryLimit and TimeLimit. Errors
// wrap majorreport's: ErrTooLarge also for a document that needs more
// memory or time than the limits, ErrMalformed for one whose reader
// crashed (a stack overflow), with the reason in words.
func Text(ctx context.Context, filename, contentType string, data []byte) (string, error) {
	if len(data) > majorreport.MaxDocumentBytes {
		return "", fmt.Errorf("%w: %d bytes, the limit is %d", majorreport.ErrTooLarge, len(data), majorreport.MaxDocumentBytes)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("extract: cannot start the reader: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, TimeLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, childArg, contentType, filename)
	cmd.Stdin = bytes.NewReader(data)
	out := &capped{max: 8 * majorreport.MaxTextBytes}
	errb := &capped{max: 4096}
	cmd.Stdout, cmd.Stderr = out, errb
	// The child needs nothing of the daemon's environment (secrets
	// among it); one thread's worth of parallelism is enough.
	cmd.Env = []string{"GOMAXPROCS=2", "GOTRACEBACK=single"}
	cmd.WaitDelay = 2 * time.Second
	runErr := cmd.Run()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "", fmt.Errorf("%w: not read within %s", majorreport.ErrTooLarge, TimeLimit)
	case ctx.Err() != nil:
		return "", ctx.Err()
	case runErr != nil:
		msg := errb.String()
		switch {
		case strings.Contains(msg, "out of memory") || strings.Contains(msg, "cannot allocate memory") ||
			strings.Contains(msg, "failed to allocate"): // the race detector's runtime (a -race build)
			return "", fmt.Errorf("%w: reading it needs more than %d MiB of memory", majorreport.ErrTooLarge, MemoryLimit>>20)
		case strings.Contains(msg, "stack overflow") || strings.Contains(msg, "stack exceeds"):
			return "", fmt.Errorf("%w: its objects refer to each other without end", majorreport.ErrMalformed)
		}
		first, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
		return "", fmt.Errorf("%w: the reader failed (%v: %s)", majorreport.ErrMalformed, runErr, first)
	}
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return "", fmt.Errorf("%w: the reader's answer: %v", majorreport.ErrMalformed, err)
	}
	if r.Kind != "" {
		for _, k := range kinds {
			if k.name == r.Kind {
				return "", &childError{msg: r.Err, kind: k.err}
			}
		}
		return "", fmt.Errorf("%w: %s", majorreport.ErrMalformed, r.Err)
	}
	return r.Text, nil
}

// childError is the child's error as it said it (which names its kind),
// matching the kind with errors.Is.
type childError struct {
	msg  string
	kind error
}

func (e *childError) Error() string { return e.msg }
func (e *childError) Unwrap() error { return e.kind }

// capped keeps at most max bytes written to it and drops the rest.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
