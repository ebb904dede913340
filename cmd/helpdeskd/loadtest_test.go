package main

import (
	"context"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/helpdeskd/helpdeskd/internal/extract"
)

// TestMain lets this test binary stand in for helpdeskd when a command
// runs helpdeskd as a child process (loadtest re-executes itself); as
// main does, SIGTERM and SIGINT end its context.
func TestMain(m *testing.M) {
	extract.ServeIfChild()
	if os.Getenv("HELPDESKD_TEST_AS_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestLoadtest runs the load command on a small mailbox: the child
// "run --once" must store every message once, acknowledge every new
// incident, and the report must carry the figures the README quotes.
func TestLoadtest(t *testing.T) {
	t.Setenv("HELPDESKD_TEST_AS_MAIN", "1")
	code, out, stderr := helpdeskd(t, "", "loadtest", "--messages", "60", "--dir", t.TempDir())
	if code != 0 {
		t.Fatalf("loadtest: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		`throughput\s+\d+ messages/s`,
		`peak RSS\s+[1-9]\d* MB`,
		`stored\s+60 messages`,
		`mail sent\s+30 acknowledgements`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not every message") {
		t.Error(out)
	}
}
