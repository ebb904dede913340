package mailer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/helpdeskd/helpdeskd/store"
)

// Self is this process as an outbox claimer. Its Host is the host name,
// followed, where Linux provides them, by the first 8 characters of the
// kernel's boot id and the pid namespace's number ("mail1/3f2a9c1e/4026531836"):
// pids are compared only within one boot of one pid namespace, so two
// machines, or two containers, that share a host name never release each
// other's claims. PID is the process id, Instance a random nonce drawn
// once per process.
var Self = sync.OnceValue(func() store.Claimer {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		if id := strings.TrimSpace(string(b)); len(id) >= 8 {
			host += "/" + id[:8]
		}
	}
	// "pid:[4026531836]"
	if ns, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		host += "/" + strings.TrimSuffix(strings.TrimPrefix(ns, "pid:["), "]")
	}
	nonce := make([]byte, 8)
	rand.Read(nonce)
	return store.Claimer{Host: host, PID: os.Getpid(), Instance: hex.EncodeToString(nonce)}
})

var (
	// claimMu serialises Flush's start: counting it in, and releasing
	// what an earlier flush of this process left claimed.
	claimMu  sync.Mutex
	flushing int // Flush calls running in this process, under claimMu
)

// releaseOrphans puts back in the queue, due at once, the rows claimed by
// processes of this host that are gone: those whose pid no longer runs
// (or is a zombie), and those that carry this process's pid with another
// nonce (a predecessor whose pid was given again). With own, also the
// claims of this very process (an earlier flush that could not record
// its results, the database being unreachable): only a Flush alone among
// this process's flushes, before it claims, may release those. Claims of
// other hosts wait for their lease; a pid that was handed to an
// unrelated process since keeps its claims until the lease runs out (the
// safe side).
func (m *Mailer) releaseOrphans(ctx context.Context, own bool) error {
	cs, err := m.Store.OutboxClaimers(ctx, m.Claimer.Host)
	if err != nil {
		return err
	}
	for _, c := range cs {
		switch {
		case c == m.Claimer && !own:
			continue
		case c != m.Claimer && c.PID != m.Claimer.PID && processRuns(c.PID):
			continue
		}
		n, err := m.Store.ReleaseOrphanedClaims(ctx, c)
		if err != nil {
			return err
		}
		if n > 0 {
			m.Log.Info("outbox: released the claims of a flush that is gone", "host", c.Host, "pid", c.PID, "rows", n)
		}
	}
	return nil
}

// startFlush counts a Flush in and, before it claims anything, releases
// the claims of flushes that are gone: of other processes of this host,
// and, when no other Flush of this process runs, of this process. The
// returned function counts it out.
func (m *Mailer) startFlush(ctx context.Context) (done func()) {
	claimMu.Lock()
	defer claimMu.Unlock()
	flushing++
	if ctx.Err() == nil {
		if err := m.releaseOrphans(ctx, flushing == 1); err != nil {
			m.Log.Warn("outbox: claims of stopped flushes not checked", "error", err)
		}
	}
	return func() {
		claimMu.Lock()
		flushing--
		claimMu.Unlock()
	}
}

// processRuns tells whether pid is a live process on this host (not a
// zombie). Without permission to signal it, it is taken to run.
func processRuns(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// kill(pid, 0) succeeds for a zombie: a dead process whose parent has
	// not yet collected it.
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !os.IsNotExist(err)
	}
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}
