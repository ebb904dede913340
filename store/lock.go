package store

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"syscall"
	"time"
)

// Lock is held by one process at a time across every process that shares
// the database. It guards work that must not run twice at once, such as
// fetching one mailbox.
type Lock struct {
	release func(context.Context) error
	renew   func(context.Context) error
}

// Release gives the lock up. It must be called; on PostgreSQL the lock is
// tied to a database session that outlives a returned pool connection.
func (l *Lock) Release(ctx context.Context) error { return l.release(ctx) }

// Renew checks, on PostgreSQL, that the session holding the lock is still
// alive; a file lock (SQLite) needs nothing.
func (l *Lock) Renew(ctx context.Context) error { return l.renew(ctx) }

// TryLock takes the named lock if it is free and returns nil, nil if
// another process holds it.
//
// PostgreSQL: a session-level advisory lock on a pinned connection,
// released explicitly (pg_advisory_unlock) and, should the process die,
// by the server when the session ends.
//
// SQLite: an exclusive flock(2) on a small file beside the database
// (DB-lock-HASH), which the kernel releases the moment the holding
// process dies, however it dies. owner and ttl are not needed there.
func (s *Store) TryLock(ctx context.Context, name, owner string, ttl time.Duration) (*Lock, error) {
	if s.dialect == Postgres {
		return s.tryAdvisoryLock(ctx, name)
	}
	return s.tryFileLock(name)
}

func (s *Store) tryFileLock(name string) (*Lock, error) {
	sum := sha256.Sum256([]byte(name))
	path := s.sqlitePath + "-lock-" + hex.EncodeToString(sum[:8])
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("store: lock %s (%s): %w", name, path, err)
	}
	// For a person looking at the file: who holds it.
	f.Truncate(0)
	fmt.Fprintf(f, "%s\npid %d\n", name, os.Getpid())
	return &Lock{
		release: func(context.Context) error {
			syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			return f.Close()
		},
		renew: func(context.Context) error { return nil },
	}, nil
}

func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("helpdeskd:" + name))
	return int64(h.Sum64() >> 1)
}

func (s *Store) tryAdvisoryLock(ctx context.Context, name string) (*Lock, error) {
	key := lockKey(name)
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	var ok bool
	if err := conn.GetContext(ctx, &ok, s.q("try-advisory-lock"), key); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	if !ok {
		conn.Close()
		return nil, nil
	}
	return &Lock{
		release: func(ctx context.Context) error {
			var released bool
			err := conn.GetContext(ctx, &released, s.q("advisory-unlock"), key)
			if err != nil {
				// The session is unusable; closing the raw connection ends
				// it on the server, which releases the lock.
				conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			conn.Close()
			return err
		},
		renew: func(ctx context.Context) error { return conn.PingContext(ctx) },
	}, nil
}
