package store

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"
)

// txExt runs the named queries of a transaction as prepared statements,
// each prepared once per transaction on the transaction's connection and
// closed with it. A batch of messages runs the same dozen statements
// hundreds of times: on PostgreSQL a prepared statement costs one round
// trip per execution instead of two (lib/pq parses unprepared statements
// in a round trip of their own), and on SQLite the statement is compiled
// once per batch instead of once per message.
//
// Text that is not a named query (SAVEPOINT, ad hoc reads) goes straight
// to the transaction.
type txExt struct {
	*sqlx.Tx
	known map[string]struct{}
	stmts map[string]*sqlx.Stmt
}

func (t *txExt) stmt(ctx context.Context, query string) *sqlx.Stmt {
	if st, ok := t.stmts[query]; ok {
		return st
	}
	if _, ok := t.known[query]; !ok {
		return nil
	}
	st, err := t.Tx.PreparexContext(ctx, query)
	if err != nil {
		// Let the plain call report the error in its own words.
		return nil
	}
	if t.stmts == nil {
		t.stmts = map[string]*sqlx.Stmt{}
	}
	t.stmts[query] = st
	return st
}

func (t *txExt) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *txExt) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *txExt) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryxContext(ctx, args...)
	}
	return t.Tx.QueryxContext(ctx, query, args...)
}

func (t *txExt) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowxContext(ctx, args...)
	}
	return t.Tx.QueryRowxContext(ctx, query, args...)
}
