// Package mailbox is helpdeskd's IMAP intake, built on
// github.com/emersion/go-imap/v2 (RFC 3501, RFC 9051).
//
// # No mail is lost
//
// A message is committed to the store, raw bytes included, before the
// mailbox is touched. Only then is it flagged \Seen or moved to the
// processed folder. The store records, in the same transaction as the
// messages, every committed UID (intake_uids) and the checkpoint
// (mailbox, UIDVALIDITY, last UID). If the process dies between the
// commit and the flag or move, the next cycle finds those UIDs marked not
// done and finishes the job; it never fetches them again as new mail.
//
// Mail is fetched in chunks of [imap] batch_size and committed in batches
// of [intake] batch_size; the next chunk is fetched while the current one
// is written, and the flag or move of a committed chunk follows when that
// fetch is done (one command at a time on the connection).
//
// Messages are fetched with BODY.PEEK[] and RFC822.SIZE; BODY.PEEK[] does
// not set \Seen, so a message is never marked read by fetching it. A body
// shorter than RFC822.SIZE (a server that lost the text while answering,
// often an empty literal) is a temporary failure (ErrShortFetch): the
// messages before it are committed, it and those after it are neither
// stored nor checkpointed nor flagged, and the next cycle fetches them
// again. New mail is found with
// UID SEARCH UID n:* and filtered client-side, because "n:*" always
// includes the highest UID even when it is below n (RFC 3501 §6.4.8).
//
// When UIDVALIDITY changes (the server renumbered the mailbox), the
// checkpoint no longer means anything: the mailbox is rescanned as on
// first contact and duplicates are recognised by Message-ID and content
// hash in the store.
//
// On first contact (no checkpoint), in flag mode only unseen messages
// are taken (seen ones were handled before helpdeskd arrived); with a
// processed folder, every message in the folder is.
//
// # Moving safely
//
// go-imap's MOVE fallback pipelines COPY, STORE and a bare EXPUNGE without
// checking COPY; a failed COPY then deletes the mail. moveSafely uses MOVE
// when advertised, otherwise COPY and, only if it succeeded, \Deleted plus
// UID EXPUNGE of exactly those UIDs (UIDPLUS), never a bare EXPUNGE.
//
// # Timeouts and reconnects
//
// Every command is bounded by [imap] timeout: go-imap v2 sets no deadline
// while waiting for the first byte of a reply. A silent or vanished server
// therefore costs one timeout, after which intake reconnects with
// exponential backoff.
//
// # One reader per mailbox
//
// Several processes may share one database (two "run --once" from cron,
// two daemons on PostgreSQL). Intake takes a lock per mailbox first
// (PostgreSQL advisory lock, SQLite file lock); the loser waits, and
// "run --once" gives up after a while and says so.
package mailbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// ErrLocked is returned by RunOnce when another process holds the mailbox.
var ErrLocked = errors.New("imap: another helpdeskd is reading this mailbox")

// Intake reads one IMAP mailbox into the workflow.
type Intake struct {
	Cfg    config.IMAP
	Store  *store.Store
	Engine *workflow.Engine
	Log    *slog.Logger
	// CommitBatch is how many messages share one transaction.
	CommitBatch int
	// LockWait is how long RunOnce waits for another reader to finish.
	LockWait time.Duration
	// IdleMax is how long one IDLE lasts before it is restarted (and the
	// connection probed with a search).
	IdleMax time.Duration

	owner  string
	lastOK atomic.Int64

	// Test hooks: called just before a batch is committed and just after,
	// before the mailbox is touched. Tests cancel the context there to
	// stand for a process killed at that point.
	beforeCommit, afterCommit func()
}

// New returns an Intake for cfg.
func New(cfg *config.Config, st *store.Store, eng *workflow.Engine, log *slog.Logger) *Intake {
	if log == nil {
		log = slog.Default()
	}
	host, _ := os.Hostname()
	return &Intake{
		Cfg: cfg.IMAP, Store: st, Engine: eng, Log: log.With("mailbox", identity(cfg.IMAP)),
		CommitBatch: cfg.Intake.BatchSize, LockWait: 30 * time.Second, IdleMax: 4 * time.Minute,
		owner: fmt.Sprintf("%s/%d/%x", host, os.Getpid(), rand.Uint32()),
	}
}

func identity(c config.IMAP) string {
	return c.Username + "@" + c.Host + ":" + strconv.Itoa(c.Port) + "/" + c.Folder
}

// Identity names the mailbox in the store (checkpoint and lock).
func (in *Intake) Identity() string { return identity(in.Cfg) }

// LastOK is when a cycle last completed (zero: never). The daemon's
// watchdog pings systemd only while this is recent.
func (in *Intake) LastOK() time.Time {
	v := in.lastOK.Load()
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v)
}

// Stats counts what a cycle did.
type Stats struct {
	Fetched     int
	Outcomes    map[workflow.Outcome]int
	Finished    int // UIDs whose flag/move was done
	Rescan      bool
	LockSkipped bool
}

func (s *Stats) add(rs []workflow.Result) {
	if s.Outcomes == nil {
		s.Outcomes = map[workflow.Outcome]int{}
	}
	for _, r := range rs {
		s.Outcomes[r.Outcome]++
	}
}

const lockTTL = 10 * time.Minute

func (in *Intake) lock(ctx context.Context, wait time.Duration) (*store.Lock, error) {
	deadline := time.Now().Add(wait)
	logged := false
	for {
		l, err := in.Store.TryLock(ctx, "intake:"+in.Identity(), in.owner, lockTTL)
		if err != nil || l != nil {
			return l, err
		}
		if wait >= 0 && time.Now().After(deadline) {
			return nil, ErrLocked
		}
		if !logged {
			in.Log.Info("another helpdeskd is reading this mailbox; waiting")
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// RunOnce connects, does one intake cycle and disconnects.
func (in *Intake) RunOnce(ctx context.Context) (Stats, error) {
	l, err := in.lock(ctx, in.LockWait)
	if err != nil {
		return Stats{LockSkipped: errors.Is(err, ErrLocked)}, err
	}
	defer l.Release(context.WithoutCancel(ctx))
	s, err := dial(ctx, in.Cfg)
	if err != nil {
		return Stats{}, err
	}
	defer s.close(ctx)
	return in.cycle(ctx, s)
}

// Run is the intake loop of the daemon: wait for the mailbox lock,
// connect, and alternate cycles with IDLE (or sleeps of poll_interval),
// reconnecting with backoff when anything fails. ready is called after the
// first successful cycle.
func (in *Intake) Run(ctx context.Context, ready func()) error {
	l, err := in.lock(ctx, -1)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer l.Release(context.WithoutCancel(ctx))
	backoff := time.Second
	for ctx.Err() == nil {
		err := in.connected(ctx, l, ready)
		if ctx.Err() != nil {
			return nil
		}
		in.Log.Warn("imap session ended; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff + time.Duration(rand.Int64N(int64(backoff/4)+1))):
		}
		backoff = min(backoff*2, 5*time.Minute)
		if time.Since(in.LastOK()) < time.Minute {
			backoff = time.Second
		}
	}
	return nil
}

func (in *Intake) connected(ctx context.Context, l *store.Lock, ready func()) error {
	s, err := dial(ctx, in.Cfg)
	if err != nil {
		return err
	}
	defer s.close(ctx)
	useIdle := in.Cfg.Idle && s.c.Caps().Has(imap.CapIdle)
	in.Log.Info("imap connected", "idle", useIdle)
	for ctx.Err() == nil {
		if err := l.Renew(ctx); err != nil {
			return err
		}
		st, err := in.cycle(ctx, s)
		if err != nil {
			return err
		}
		if st.Fetched > 0 || st.Finished > 0 {
			in.Log.Info("intake cycle", "fetched", st.Fetched, "outcomes", st.Outcomes, "finished", st.Finished)
		}
		if ready != nil {
			ready()
			ready = nil
		}
		if useIdle {
			if err := s.idle(ctx, in.IdleMax); err != nil {
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(in.Cfg.PollInterval.Duration):
		}
	}
	return nil
}

// cycle selects the folder, finishes pending flags/moves, fetches new
// mail in batches, commits each batch and then flags or moves it.
func (in *Intake) cycle(ctx context.Context, s *session) (Stats, error) {
	var st Stats
	var sel *imap.SelectData
	if err := s.do(ctx, func() error {
		var err error
		sel, err = s.c.Select(in.Cfg.Folder, nil).Wait()
		return err
	}); err != nil {
		return st, fmt.Errorf("imap: select %s: %w", in.Cfg.Folder, err)
	}
	if in.Cfg.ProcessedFolder != "" {
		// Make sure the destination exists; an error here (it exists, or
		// we may not create it) surfaces on the first move instead.
		_ = s.do(ctx, func() error { return s.c.Create(in.Cfg.ProcessedFolder, nil).Wait() })
	}
	id := in.Identity()
	validity := sel.UIDValidity
	cpValidity, last, ok, err := in.Store.Checkpoint(ctx, id)
	if err != nil {
		return st, err
	}
	firstContact := !ok || cpValidity != validity
	if ok && cpValidity != validity {
		st.Rescan = true
		in.Log.Warn("UIDVALIDITY changed: rescanning the mailbox; messages already stored are recognised by content",
			"old_uidvalidity", cpValidity, "new_uidvalidity", validity)
		last = 0
	}
	if !firstContact {
		pending, err := in.Store.PendingIntake(ctx, id, validity)
		if err != nil {
			return st, err
		}
		if len(pending) > 0 {
			in.Log.Info("finishing flag/move of messages committed before an interruption", "count", len(pending))
			if err := in.finish(ctx, s, validity, pending); err != nil {
				return st, err
			}
			st.Finished += len(pending)
		}
	}

	crit := &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}
	if firstContact {
		if in.Cfg.ProcessedFolder == "" {
			crit.NotFlag = append(crit.NotFlag, imap.FlagSeen)
		}
	} else {
		crit.UID = []imap.UIDSet{{imap.UIDRange{Start: imap.UID(last + 1), Stop: 0}}}
	}
	var found []imap.UID
	if err := s.do(ctx, func() error {
		data, err := s.c.UIDSearch(crit, nil).Wait()
		if err == nil {
			found = data.AllUIDs()
		}
		return err
	}); err != nil {
		return st, fmt.Errorf("imap: search: %w", err)
	}
	uids := found[:0]
	for _, u := range found {
		if uint32(u) > last {
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	if err := in.pipeline(ctx, s, validity, uids, &st); err != nil {
		return st, err
	}
	if firstContact && sel.UIDNext > 1 {
		// Seen mail below UIDNEXT was not taken on first contact; start
		// counting from here so it is not taken later either.
		cur := uint32(0)
		if len(uids) > 0 {
			cur = uint32(uids[len(uids)-1])
		}
		if next := uint32(sel.UIDNext) - 1; next > cur {
			if err := in.Store.InTx(ctx, func(tx *store.Tx) error {
				return tx.SetCheckpoint(ctx, id, validity, next, in.Engine.Now())
			}); err != nil {
				return st, err
			}
		}
	}
	in.lastOK.Store(time.Now().UnixNano())
	return st, nil
}

// pipeline fetches uids in chunks of [imap] batch_size and commits them
// in batches of [intake] batch_size, fetching the next chunk while the
// current one is written to the database. The IMAP connection carries one
// command at a time: the flag or move of a committed chunk is done when
// the fetch running beside its commit has finished (until then the
// committed UIDs wait in intake_uids, exactly as after a crash).
func (in *Intake) pipeline(ctx context.Context, s *session, validity uint32, uids []imap.UID, st *Stats) error {
	type result struct {
		msgs []fetched
		err  error
		took time.Duration
	}
	var chunks [][]imap.UID
	for start := 0; start < len(uids); start += in.Cfg.BatchSize {
		chunks = append(chunks, uids[start:min(start+in.Cfg.BatchSize, len(uids))])
	}
	if len(chunks) == 0 {
		return nil
	}
	var inflight chan result
	fetchAsync := func(chunk []imap.UID) {
		ch := make(chan result, 1)
		go func() {
			t0 := time.Now()
			msgs, err := in.fetch(ctx, s, chunk)
			ch <- result{msgs, err, time.Since(t0)}
		}()
		inflight = ch
	}
	// Never leave with a fetch still using the connection.
	defer func() {
		if inflight != nil {
			<-inflight
		}
	}()
	var committed []uint32 // flag/move due
	fetchAsync(chunks[0])
	for k := range chunks {
		r := <-inflight
		inflight = nil
		if r.err != nil {
			return r.err
		}
		in.Log.Debug("fetched", "count", len(r.msgs), "took", r.took)
		var shortErr error
		for i, f := range r.msgs {
			if f.short() {
				// Commit what comes before it; it and what follows are
				// fetched again next cycle (the checkpoint stays below it).
				in.Log.Warn("imap: the server returned a message shorter than its RFC822.SIZE; not stored, fetching it again next cycle",
					"mailbox", in.Identity(), "uid", f.uid, "rfc822_size", f.size, "received_bytes", len(f.raw))
				shortErr = fmt.Errorf("%w: UID %d has %d bytes, %d received", ErrShortFetch, f.uid, f.size, len(f.raw))
				r.msgs = r.msgs[:i]
				break
			}
		}
		if len(committed) > 0 {
			if err := in.finish(ctx, s, validity, committed); err != nil {
				return err
			}
			st.Finished += len(committed)
			committed = nil
		}
		if k+1 < len(chunks) && shortErr == nil {
			fetchAsync(chunks[k+1])
		}
		st.Fetched += len(r.msgs)
		for i := 0; i < len(r.msgs); i += in.CommitBatch {
			part := r.msgs[i:min(i+in.CommitBatch, len(r.msgs))]
			done, err := in.commit(ctx, validity, part, st)
			if err != nil {
				return err
			}
			committed = append(committed, done...)
		}
		if shortErr != nil {
			if len(committed) > 0 {
				if err := in.finish(ctx, s, validity, committed); err != nil {
					return err
				}
				st.Finished += len(committed)
			}
			return shortErr
		}
	}
	if len(committed) > 0 {
		if err := in.finish(ctx, s, validity, committed); err != nil {
			return err
		}
		st.Finished += len(committed)
	}
	return nil
}

type fetched struct {
	uid  imap.UID
	raw  []byte
	size int64 // RFC822.SIZE as the server reported it
}

// short tells whether the server returned less of the message than its
// RFC822.SIZE says it has (RFC 3501 §7.4.2: the size is that of the whole
// message, which is what BODY[] returns).
func (f fetched) short() bool { return int64(len(f.raw)) < f.size }

// ErrShortFetch is returned when the server answered a FETCH with a body
// shorter than the message's RFC822.SIZE (an empty one, mostly): the
// message is neither stored nor checkpointed nor flagged, and is fetched
// again in the next cycle.
var ErrShortFetch = errors.New("imap: the server returned a message shorter than its RFC822.SIZE")

func (in *Intake) fetch(ctx context.Context, s *session, uids []imap.UID) ([]fetched, error) {
	peek := &imap.FetchItemBodySection{Peek: true}
	opts := &imap.FetchOptions{UID: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{peek}}
	var out []fetched
	err := s.do(ctx, func() error {
		got, err := s.c.Fetch(imap.UIDSetNum(uids...), opts).Collect()
		for _, b := range got {
			if b.UID != 0 {
				out = append(out, fetched{uid: b.UID, raw: b.FindBodySection(peek), size: b.RFC822Size})
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("imap: fetch %d messages: %w", len(uids), err)
	}
	// The server may return them in any order; commit in UID order so the
	// checkpoint only ever moves forward over committed mail.
	slices.SortFunc(out, func(a, b fetched) int { return int(a.uid) - int(b.uid) })
	return out, nil
}

// commit hands one batch to the workflow in one transaction that also
// records the checkpoint, and returns the UIDs whose flag/move is now due.
func (in *Intake) commit(ctx context.Context, validity uint32, part []fetched, st *Stats) ([]uint32, error) {
	id := in.Identity()
	batch := make([]workflow.Inbound, len(part))
	uids := make([]uint32, len(part))
	for i, f := range part {
		raw := f.raw
		if raw == nil {
			raw = []byte{} // server sent no body: quarantined as empty
		}
		batch[i] = workflow.Inbound{Raw: raw, Source: workflow.Source{Kind: "imap", Mailbox: id, UIDValidity: validity, UID: uint32(f.uid)}}
		uids[i] = uint32(f.uid)
	}
	maxUID := uids[len(uids)-1]
	if in.beforeCommit != nil {
		in.beforeCommit()
	}
	t0 := time.Now()
	results, err := in.Engine.Ingest(ctx, batch, func(tx *store.Tx) error {
		return tx.SetCheckpoint(ctx, id, validity, maxUID, in.Engine.Now())
	})
	if err != nil {
		return nil, fmt.Errorf("intake: commit batch of %d: %w", len(batch), err)
	}
	st.add(results)
	if in.afterCommit != nil {
		in.afterCommit()
	}
	in.Log.Debug("committed", "count", len(uids), "took", time.Since(t0))
	return uids, nil
}

// finish flags or moves committed messages and records that it did.
func (in *Intake) finish(ctx context.Context, s *session, validity uint32, uids []uint32) error {
	set := make([]imap.UID, len(uids))
	for i, u := range uids {
		set[i] = imap.UID(u)
	}
	var err error
	if in.Cfg.ProcessedFolder != "" {
		err = s.moveSafely(ctx, set, in.Cfg.ProcessedFolder)
	} else {
		err = s.flagSeen(ctx, set)
	}
	if err != nil {
		return fmt.Errorf("imap: after commit: %w", err)
	}
	return in.Store.MarkIntakeDone(ctx, in.Identity(), validity, uids)
}
