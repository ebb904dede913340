package store_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
)

// eachDialect runs a test on SQLite and on PostgreSQL.
func eachDialect(t *testing.T, fn func(t *testing.T, u string)) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, testutil.URL(t, d)) })
	}
}

func msg(id, hash string) *store.Message {
	return &store.Message{MessageID: id, ContentHash: hash, Direction: "in", Source: "test",
		Kind: "human", Attachments: "[]", Defects: "[]", ReceivedAt: time.Now()}
}

func TestMigrateOnceAndRefuseNewerSchema(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := testutil.OpenURL(t, u)
		n, err := st.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second migrate applied %d, err %v; want 0, nil", n, err)
		}
		if _, err := st.DB().Exec(st.DB().Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 'x')`), 999); err != nil {
			t.Fatal(err)
		}
		if err := st.Ready(ctx); !errors.Is(err, store.ErrSchema) {
			t.Fatalf("Ready on a newer schema: %v, want ErrSchema", err)
		}
		if _, err := st.Migrate(ctx); !errors.Is(err, store.ErrSchema) {
			t.Fatalf("Migrate on a newer schema: %v, want ErrSchema", err)
		}
	})
}

func TestReadyRefusesUnmigratedDatabase(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		st, err := store.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		err = st.Ready(context.Background())
		if !errors.Is(err, store.ErrSchema) {
			t.Fatalf("Ready before migrate: %v, want ErrSchema telling to run migrate", err)
		}
	})
}

func TestConcurrentMigrateAppliesOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		var wg sync.WaitGroup
		applied := make([]int, 3)
		errs := make([]error, 3)
		for i := range applied {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := store.Open(ctx, u)
				if err != nil {
					errs[i] = err
					return
				}
				defer st.Close()
				applied[i], errs[i] = st.Migrate(ctx)
			}()
		}
		wg.Wait()
		total := 0
		for i := range applied {
			if errs[i] != nil {
				t.Fatalf("migrate %d: %v", i, errs[i])
			}
			total += applied[i]
		}
		st := testutil.OpenURL(t, u)
		if total != st.LatestVersion() {
			t.Fatalf("three concurrent migrations applied %d in total, want %d", total, st.LatestVersion())
		}
	})
}

func TestMessageUniqueKey(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := testutil.OpenURL(t, u)
		tx, err := st.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		first := msg("a@x", "h1")
		if err := tx.InsertMessages(ctx, []*store.Message{first}, [][]byte{[]byte("raw")}); err != nil {
			t.Fatal(err)
		}
		again := msg("a@x", "h1")
		if err := tx.InsertMessages(ctx, []*store.Message{again}, [][]byte{[]byte("raw")}); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("same Message-ID and hash stored twice: %v; want ErrDuplicate", err)
		}
		lk, err := tx.PrefetchBatch(ctx, []store.MessageKey{{MessageID: "a@x", ContentHash: "h1"}}, nil, nil, nil, nil, time.Time{})
		if err != nil || lk.Stored[store.MessageKey{MessageID: "a@x", ContentHash: "h1"}] == nil ||
			lk.Stored[store.MessageKey{MessageID: "a@x", ContentHash: "h1"}].ID != first.ID {
			t.Fatalf("prefetch of the stored message: %+v, %v; want #%d", lk, err, first.ID)
		}
		// Same Message-ID, other content: a different message (some mailers
		// reuse ids), kept separately.
		other := msg("a@x", "h2")
		if err := tx.InsertMessages(ctx, []*store.Message{other}, [][]byte{[]byte("raw")}); err != nil || other.ID == first.ID {
			t.Fatalf("same id, other content: id %d err %v; want a new row", other.ID, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBatchOperations covers the set-based statements the workflow
// writes a batch with: prefetch (stored messages, thread candidates in
// the caller's order, recent automatic mail per sender), incidents
// inserted and updated together, messages with their raw bytes, events
// in chunks past the parameter limit.
func TestBatchOperations(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := testutil.OpenURL(t, u)
		err := st.InTx(ctx, func(tx *store.Tx) error {
			now := time.Now()
			inc1 := &store.Incident{Key: "HD-1", Subject: "s", Status: "new", Priority: "P3", Requester: "r@x", CreatedAt: now, UpdatedAt: now, MessageCount: 1}
			inc2 := &store.Incident{Key: "HD-2", Subject: "s", Status: "new", Priority: "P3", Requester: "r@x", CreatedAt: now, UpdatedAt: now, MessageCount: 1}
			if err := tx.InsertIncidents(ctx, []*store.Incident{inc1, inc2}); err != nil {
				return err
			}
			if inc1.ID == 0 || inc2.ID == 0 || inc1.ID == inc2.ID {
				t.Fatalf("incident ids %d, %d", inc1.ID, inc2.ID)
			}
			m := msg("in-1@x", "h")
			m.IncidentID = &inc1.ID
			m.TextBody, m.NewText = "full", "full"
			m.Conversation = "conv-1"
			orphan := msg("orphan@x", "h")
			if err := tx.InsertMessages(ctx, []*store.Message{m, orphan}, [][]byte{[]byte("raw1"), []byte("raw2")}); err != nil {
				return err
			}
			o := &store.Outbox{IncidentID: &inc2.ID, Kind: "ack", MessageID: "out-2@x", FromAddr: "a", ToAddrs: "b",
				AutoSubmitted: "auto-replied", RcptKey: "B@x", NextAttemptAt: now, CreatedAt: now}
			if err := tx.EnqueueAll(ctx, []*store.Outbox{o}); err != nil {
				return err
			}
			lk, err := tx.PrefetchBatch(ctx, nil, []string{"orphan@x", "out-2@x", "in-1@x", "nothing@x"}, []string{"b@X", "c@x"}, nil, []string{"conv-1", "conv-2"}, now.Add(-time.Hour))
			if err != nil {
				return err
			}
			if len(lk.ThreadIncident) != 2 || lk.ThreadIncident["out-2@x"] != inc2.ID || lk.ThreadIncident["in-1@x"] != inc1.ID {
				t.Errorf("thread candidates: %v", lk.ThreadIncident)
			}
			if lk.AutoMailSent["b@x"] != 1 || lk.AutoMailSent["c@x"] != 0 {
				t.Errorf("automatic mail per sender: %v", lk.AutoMailSent)
			}
			if len(lk.Conversation) != 1 || lk.Conversation["conv-1"] != inc1.ID {
				t.Errorf("conversations: %v", lk.Conversation)
			}
			later := now.Add(time.Minute)
			inc1.Status, inc1.ResolvedAt, inc1.MessageCount, inc1.UpdatedAt = store.StatusResolved, &later, 3, later
			inc2.FirstResponseAt = &later
			if err := tx.UpdateIncidents(ctx, []*store.Incident{inc1, inc2}); err != nil {
				return err
			}
			got, err := tx.IncidentsForBatch(ctx, []int64{inc1.ID}, []string{"HD-2"})
			if err != nil {
				return err
			}
			if len(got) != 2 {
				t.Fatalf("incidents for batch: %d", len(got))
			}
			for _, g := range got {
				switch g.Key {
				case "HD-1":
					if g.Status != store.StatusResolved || g.MessageCount != 3 || g.ResolvedAt == nil || g.ResolvedAt.Sub(later).Abs() > time.Millisecond {
						t.Errorf("HD-1 after update: %+v", g)
					}
				case "HD-2":
					if g.FirstResponseAt == nil || g.Status != "new" {
						t.Errorf("HD-2 after update: %+v", g)
					}
				}
			}
			msgs, err := tx.IncidentMessages(ctx, inc1.ID)
			if err != nil {
				return err
			}
			if len(msgs) != 1 || msgs[0].NewText != "full" {
				t.Errorf("a new text equal to the text reads back as the text: %+v", msgs)
			}
			var evs []*store.Event
			for i := range 6001 {
				evs = append(evs, &store.Event{IncidentID: &inc1.ID, Kind: "k", Actor: "a", Detail: fmt.Sprint(i), CreatedAt: now})
			}
			if err := tx.AddEvents(ctx, evs); err != nil {
				return err
			}
			all, err := tx.IncidentEvents(ctx, inc1.ID)
			if err != nil {
				return err
			}
			if len(all) != 6001 || all[6000].Detail != "6000" {
				t.Errorf("AddEvents in chunks stored %d events; want 6001 in order", len(all))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestIncidentNumbersNeverShared(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := testutil.OpenURL(t, u)
		var mu sync.Mutex
		seen := map[int64]bool{}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					err := st.InTx(ctx, func(tx *store.Tx) error {
						n, err := tx.LockCounter(ctx, "incident")
						if err != nil {
							return err
						}
						n++
						if err := tx.SetCounter(ctx, "incident", n); err != nil {
							return err
						}
						mu.Lock()
						defer mu.Unlock()
						if seen[n] {
							return fmt.Errorf("number %d handed out twice", n)
						}
						seen[n] = true
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if len(seen) != 40 {
			t.Fatalf("got %d distinct numbers, want 40", len(seen))
		}
	})
}

func TestOutboxClaimedOnceAndReclaimedAfterLease(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := testutil.OpenURL(t, u)
		now := time.Now().UTC()
		for i := 0; i < 30; i++ {
			o := &store.Outbox{Kind: "ack", MessageID: fmt.Sprintf("m%d@x", i), FromAddr: "h@x", ToAddrs: "a@x",
				RcptKey: "a@x", AutoSubmitted: "auto-replied", NextAttemptAt: now, CreatedAt: now}
			if err := st.Enqueue(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		dup := &store.Outbox{Kind: "ack", MessageID: "m0@x", NextAttemptAt: now, CreatedAt: now}
		if err := st.Enqueue(ctx, dup); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("same Message-ID enqueued twice: %v, want ErrDuplicate", err)
		}
		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					rows, err := st.ClaimOutbox(ctx, now, time.Minute, 3, store.Claimer{Host: "h", PID: w + 1})
					if err != nil {
						t.Error(err)
						return
					}
					if len(rows) == 0 {
						return
					}
					mu.Lock()
					for _, r := range rows {
						claimed[r.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(claimed) != 30 {
			t.Fatalf("%d rows claimed, want 30", len(claimed))
		}
		for id, n := range claimed {
			if n != 1 {
				t.Fatalf("row %d claimed %d times", id, n)
			}
		}
		// A sender that died holds its rows only until the lease ends.
		if rows, _ := st.ClaimOutbox(ctx, now.Add(30*time.Second), time.Minute, 100, store.Claimer{}); len(rows) != 0 {
			t.Fatalf("%d rows claimed again within the lease", len(rows))
		}
		rows, err := st.ClaimOutbox(ctx, now.Add(2*time.Minute), time.Minute, 100, store.Claimer{})
		if err != nil || len(rows) != 30 {
			t.Fatalf("after the lease: %d rows, err %v; want 30", len(rows), err)
		}
		if rows[0].Attempts != 2 || rows[0].MessageID != "m0@x" {
			t.Fatalf("reclaimed row: attempts %d id %s; want 2, the same Message-ID", rows[0].Attempts, rows[0].MessageID)
		}
	})
}

func TestEventDedupeKey(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := testutil.OpenURL(t, u)
		key := "escalation:HD-1:1"
		for i, want := range []error{nil, store.ErrDuplicate} {
			err := st.AddEvent(ctx, &store.Event{Kind: "x", Actor: "t", Detail: "d", CreatedAt: time.Now(), DedupeKey: &key})
			if !errors.Is(err, want) {
				t.Fatalf("event %d: %v, want %v", i, err, want)
			}
		}
	})
}

func TestLockIsExclusiveAcrossProcesses(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		a := testutil.OpenURL(t, u)
		// A second pool stands for a second process.
		b, err := store.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		la, err := a.TryLock(ctx, "intake:x", "A", time.Minute)
		if err != nil || la == nil {
			t.Fatalf("first lock: %v %v", la, err)
		}
		if lb, err := b.TryLock(ctx, "intake:x", "B", time.Minute); err != nil || lb != nil {
			t.Fatalf("second process got a held lock: %v %v", lb, err)
		}
		if other, err := b.TryLock(ctx, "intake:y", "B", time.Minute); err != nil || other == nil {
			t.Fatalf("another mailbox's lock: %v %v", other, err)
		} else {
			other.Release(ctx)
		}
		if err := la.Release(ctx); err != nil {
			t.Fatal(err)
		}
		lb, err := b.TryLock(ctx, "intake:x", "B", time.Minute)
		if err != nil || lb == nil {
			t.Fatalf("lock after release: %v %v", lb, err)
		}
		lb.Release(ctx)
	})
}

// TestMain lets the test binary act as a lock holder in a child process.
func TestMain(m *testing.M) {
	if u := os.Getenv("HELPDESKD_TEST_HOLD_LOCK"); u != "" {
		st, err := store.Open(context.Background(), u)
		if err != nil {
			os.Exit(3)
		}
		if l, err := st.TryLock(context.Background(), "intake:x", "child", time.Minute); err != nil || l == nil {
			os.Exit(4)
		}
		fmt.Println("locked")
		time.Sleep(time.Hour) // until killed
	}
	os.Exit(m.Run())
}

// TestLockFreedWhenHolderIsKilled: a process that dies holding the
// intake lock (SIGKILL: no deferred release runs) must not block the next
// one. SQLite's file lock and PostgreSQL's session lock both end with the
// process.
func TestLockFreedWhenHolderIsKilled(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := testutil.OpenURL(t, u)
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(self, "-test.run", "^$")
		cmd.Env = append(os.Environ(), "HELPDESKD_TEST_HOLD_LOCK="+u)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		if line != "locked\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child did not take the lock: %q", line)
		}
		if l, err := st.TryLock(ctx, "intake:x", "parent", time.Minute); err != nil || l != nil {
			t.Fatalf("lock held by a live child was granted: %v %v", l, err)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		// PostgreSQL notices the closed session at once; give the
		// server a moment to end the backend.
		var l *store.Lock
		for range 100 {
			if l, err = st.TryLock(ctx, "intake:x", "parent", time.Minute); err != nil || l != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil || l == nil {
			t.Fatalf("lock of a killed holder not free: %v %v", l, err)
		}
		l.Release(ctx)
	})
}

// TestIntakeDoneMarksExactlyTheGivenUIDs: after a crash, intake finishes
// the flag/move of exactly the UIDs not marked done.
func TestIntakeDoneMarksExactlyTheGivenUIDs(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := testutil.OpenURL(t, u)
		err := st.InTx(ctx, func(tx *store.Tx) error {
			for _, uid := range []uint32{5, 6, 7, 9} {
				if err := tx.RecordIntakeUID(ctx, "mb", 1, uid, nil, nil, time.Now()); err != nil {
					return err
				}
			}
			// The same UIDs under another UIDVALIDITY are other messages.
			return tx.RecordIntakeUID(ctx, "mb", 2, 5, nil, nil, time.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.MarkIntakeDone(ctx, "mb", 1, []uint32{5, 7, 9}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			validity uint32
			want     string
		}{{1, "[6]"}, {2, "[5]"}} {
			got, err := st.PendingIntake(ctx, "mb", c.validity)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != c.want {
				t.Errorf("uidvalidity %d: pending %v, want %s", c.validity, got, c.want)
			}
		}
	})
}

// TestSQLiteLogCheckpointedOnClose: with automatic checkpoints off (the
// store checkpoints from a goroutine of its own), Close must still leave
// the write-ahead log copied into the database and empty.
func TestSQLiteLogCheckpointedOnClose(t *testing.T) {
	u := testutil.URL(t, "sqlite")
	ctx := context.Background()
	st, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var ms []*store.Message
	var raws [][]byte
	for i := range 200 {
		ms = append(ms, msg(fmt.Sprintf("%d@x", i), "h"))
		raws = append(raws, bytes.Repeat([]byte("x"), 10000))
	}
	if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertMessages(ctx, ms, raws) }); err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(u, "sqlite:")
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("expected a write-ahead log before Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Fatalf("write-ahead log still holds %d bytes after Close", fi.Size())
	}
	st2, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	var n int
	if err := st2.DB().Get(&n, `SELECT COUNT(*) FROM message_raw`); err != nil || n != 200 {
		t.Fatalf("after reopening: %d raw messages, %v", n, err)
	}
}

// TestRepeatCandidatesHonourNotProblemPairs: the candidates' query leaves
// out incidents whose fingerprint "#not-problem" parted from the asking
// one (both ways round), and forgets a pair once it is deleted.
func TestRepeatCandidatesHonourNotProblemPairs(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := testutil.OpenURL(t, u)
		now := time.Now().UTC()
		err := st.InTx(ctx, func(tx *store.Tx) error {
			pr := &store.Problem{Key: "PRB-1", Title: "t", Status: store.ProblemOpen, Fingerprint: "drop hour vpn", CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertProblems(ctx, []*store.Problem{pr}); err != nil {
				return err
			}
			var incs []*store.Incident
			for i, fp := range []string{"drop hour vpn", "drop guest hour vpn wifi", "drop hour vpn wifi"} {
				inc := &store.Incident{Key: fmt.Sprintf("HD-%d", i+1), Subject: "s", Status: "new", Priority: "P3", Requester: "r@x",
					CreatedAt: now, UpdatedAt: now, MessageCount: 1, Fingerprint: fp}
				if i != 1 {
					inc.ProblemID = &pr.ID
				}
				incs = append(incs, inc)
			}
			if err := tx.InsertIncidents(ctx, incs); err != nil {
				return err
			}
			if err := tx.InsertIncidentTokens(ctx, incs); err != nil {
				return err
			}
			keys := func(fp string) string {
				cs, err := tx.RepeatCandidates(ctx, fp, now.Add(-time.Hour), 100)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, c := range cs {
					out = append(out, c.Key)
				}
				return strings.Join(out, " ")
			}
			if got := keys("drop guest hour vpn wifi"); got != "HD-3 HD-2 HD-1" {
				t.Errorf("without pairs: %q", got)
			}
			// Stored one way round, found from the other.
			if err := tx.AddExclusion(ctx, "drop hour vpn", "drop guest hour vpn wifi", "a@x", now); err != nil {
				return err
			}
			if got := keys("drop guest hour vpn wifi"); got != "HD-3 HD-2" {
				t.Errorf("with the pair: %q, want HD-1 left out", got)
			}
			if got := keys("drop hour vpn"); got != "HD-3 HD-1" {
				t.Errorf("the other way round: %q", got)
			}
			ex, err := tx.ExclusionsFor(ctx, []string{"drop hour vpn"})
			if err != nil || !ex["drop hour vpn"]["drop guest hour vpn wifi"] {
				t.Errorf("ExclusionsFor: %v %v", ex, err)
			}
			if err := tx.DeleteExclusion(ctx, "drop guest hour vpn wifi", "drop hour vpn"); err != nil {
				return err
			}
			if got := keys("drop guest hour vpn wifi"); got != "HD-3 HD-2 HD-1" {
				t.Errorf("after the pair is forgotten: %q", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestQuarantineEmptyMessage: an empty message is kept in quarantine,
// read back as empty bytes, and quarantined again from what was read
// (what "quarantine reprocess" does when it still cannot be processed).
// SQLite reads an empty BLOB as nil, which its NOT NULL refused.
func TestQuarantineEmptyMessage(t *testing.T) {
	eachDialect(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := testutil.OpenURL(t, u)
		id, err := st.Quarantine(ctx, "test", "hash-empty", "empty message", []byte{}, time.Now())
		if err != nil {
			t.Fatalf("quarantine empty bytes: %v", err)
		}
		q, err := st.GetQuarantine(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Raw) != 0 {
			t.Fatalf("read back %d bytes, want 0", len(q.Raw))
		}
		if _, err := st.Quarantine(ctx, "test", "hash-empty-2", "still empty", q.Raw, time.Now()); err != nil {
			t.Fatalf("quarantine the bytes read back (%#v): %v", q.Raw, err)
		}
		if _, err := st.Quarantine(ctx, "test", "hash-nil", "nil", nil, time.Now()); err != nil {
			t.Fatalf("quarantine nil bytes: %v", err)
		}
	})
}
