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

// Self is this process as an outbox claimer: the host (its host name,
// followed by the first 8 characters of the kernel's boot id where
// Linux provides one, so that two machines of the same name are told
// apart, as are a machine's boots), the pid, and a random nonce drawn
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
	nonce := make([]byte, 8)
	rand.Read(nonce)
	return store.Claimer{Host: host, PID: os.Getpid(), Instance: hex.EncodeToString(nonce)}
})

// ReleaseOrphans puts back in the queue, due at once, the rows claimed by
// processes of this host that are gone: those whose pid no longer runs
// (or is a zombie), and those that carry this process's pid with another
// nonce (a predecessor whose pid was given again, as to a container's
// first process). Claims of other hosts wait for their lease.
//
// A pid that was handed to an unrelated process since keeps its claims
// until the lease runs out: the safe side.
func (m *Mailer) ReleaseOrphans(ctx context.Context) error {
	cs, err := m.Store.OutboxClaimers(ctx, m.Claimer.Host)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c == m.Claimer || (c.PID != m.Claimer.PID && processRuns(c.PID)) {
			continue
		}
		n, err := m.Store.ReleaseOrphanedClaims(ctx, c)
		if err != nil {
			return err
		}
		if n > 0 {
			m.Log.Info("outbox: released the claims of a process that is gone", "host", c.Host, "pid", c.PID, "rows", n)
		}
	}
	return nil
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
