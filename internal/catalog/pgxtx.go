package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// inTxPgx runs fn in one PostgreSQL transaction handed out twice: as *sql.Tx
// for the store's ...Tx methods and as pgx.Tx for River's riverpgxv5 driver
// (client.InsertTx), so a catalog change and the job it enqueues commit or
// roll back together. fn must use the two one after the other, never at
// the same time, and must not commit or roll back ptx (nested ptx.Begin
// savepoints are fine). InQueueTx (River) and SyncApply (COPY) use it.
func (s *Store) inTxPgx(ctx context.Context, fn func(tx *sql.Tx, ptx pgx.Tx) error) (err error) {
	if s.dialect != DialectPostgres {
		return errors.New("inTxPgx needs PostgreSQL")
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("taking a catalog connection: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning catalog transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var pc *pgx.Conn
	if err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("catalog connection is a %T, not a pgx connection", dc)
		}
		pc = sc.Conn()
		return nil
	}); err != nil {
		return err
	}
	// The transaction keeps the connection out of the pool until it ends,
	// so the pgx connection is ours while fn runs.
	if err = fn(tx, &outerPgxTx{conn: pc}); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("committing catalog transaction: %w", mapErr(err))
	}
	return nil
}

// outerPgxTx is the pgx.Tx view of a transaction that database/sql began
// and will end: statements go to its connection, Begin makes savepoints,
// Commit and Rollback are refused.
type outerPgxTx struct {
	conn      *pgx.Conn
	savepoint atomic.Int64
}

var errOuterTx = errors.New("this transaction is committed or rolled back by catalog.Store.InQueueTx, not through pgx.Tx")

func (t *outerPgxTx) Begin(ctx context.Context) (pgx.Tx, error) {
	name := fmt.Sprintf("shelf_sp_%d", t.savepoint.Add(1))
	if _, err := t.conn.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return nil, err
	}
	return &savepointTx{outerPgxTx: t, name: name}, nil
}
func (t *outerPgxTx) Commit(context.Context) error   { return errOuterTx }
func (t *outerPgxTx) Rollback(context.Context) error { return errOuterTx }
func (t *outerPgxTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return t.conn.CopyFrom(ctx, table, cols, src)
}
func (t *outerPgxTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.conn.SendBatch(ctx, b)
}
func (t *outerPgxTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (t *outerPgxTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}
func (t *outerPgxTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.conn.Exec(ctx, sql, args...)
}
func (t *outerPgxTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.conn.Query(ctx, sql, args...)
}
func (t *outerPgxTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.conn.QueryRow(ctx, sql, args...)
}
func (t *outerPgxTx) Conn() *pgx.Conn { return t.conn }

// savepointTx is a pseudo-nested transaction inside outerPgxTx.
type savepointTx struct {
	*outerPgxTx
	name   string
	closed bool
}

func (t *savepointTx) Commit(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	_, err := t.conn.Exec(ctx, "RELEASE SAVEPOINT "+t.name)
	return err
}

func (t *savepointTx) Rollback(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	_, err := t.conn.Exec(ctx, "ROLLBACK TO SAVEPOINT "+t.name)
	return err
}

var (
	_ pgx.Tx = (*outerPgxTx)(nil)
	_ pgx.Tx = (*savepointTx)(nil)
)
