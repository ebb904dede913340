// Command helpdeskd is an email-driven helpdesk gateway. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/helpdeskd/helpdeskd/internal/extract"
)

func main() {
	// A child started to read a report document: it reads and exits.
	extract.ServeIfChild()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// A second signal forces exit when graceful shutdown hangs.
		<-ctx.Done()
		stop()
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt, syscall.SIGTERM)
		<-c
		os.Exit(1)
	}()
	stopProfiles := startProfiles()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopProfiles()
	os.Exit(code)
}
