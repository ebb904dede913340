package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jmoiron/sqlx"
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

// Renew extends a lease-based lock (SQLite); on PostgreSQL it checks that
// the session holding the lock is still alive.
func (l *Lock) Renew(ctx context.Context) error { return l.renew(ctx) }

// TryLock takes the named lock if it is free and returns nil, nil if
// another process holds it.
//
// PostgreSQL: a session-level advisory lock on a pinned connection,
// released explicitly (pg_advisory_unlock) and, should the process die,
// by the server when the session ends.
//
// SQLite: a lease row that expires after ttl unless renewed, so a killed
// process blocks the lock for at most ttl.
func (s *Store) TryLock(ctx context.Context, name, owner string, ttl time.Duration) (*Lock, error) {
	if s.dialect == Postgres {
		return s.tryAdvisoryLock(ctx, name)
	}
	acquire := func(ctx context.Context) (bool, error) {
		now := time.Now().UTC()
		var got []string
		err := sqlx.SelectContext(ctx, s.db, &got, s.q("acquire-lease"), name, owner, now.Add(ttl), now)
		return len(got) == 1, err
	}
	ok, err := acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	if !ok {
		return nil, nil
	}
	return &Lock{
		release: func(ctx context.Context) error {
			_, err := s.db.ExecContext(ctx, s.q("release-lease"), name, owner)
			return err
		},
		renew: func(ctx context.Context) error {
			ok, err := acquire(ctx)
			if err == nil && !ok {
				err = fmt.Errorf("store: lock %s was taken over by another process", name)
			}
			return err
		},
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
