package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hearth/internal/store"
)

// AppendAudit inserts the next audit entry inside one write transaction, so CLI commands and
// a running server never fork the chain.
func (s *Store) AppendAudit(ctx context.Context, build func(prevSeq int64, prevHash []byte) (store.AuditEntry, error)) (store.AuditEntry, error) {
	tx, err := s.db.BeginTx(ctx, nil) // _txlock=immediate: the write lock is taken here
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("begin audit append: %w", err)
	}
	defer tx.Rollback()
	var prevSeq int64
	var prevHash []byte
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&prevSeq, &prevHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.AuditEntry{}, fmt.Errorf("read audit head: %w", err)
	}
	e, err := build(prevSeq, prevHash)
	if err != nil {
		return store.AuditEntry{}, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (seq, time, actor, actor_ip, action, target, outcome, details, prev_hash, hash)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, e.Seq, e.Time.UnixMicro(), e.Actor, e.ActorIP, e.Action, e.Target, e.Outcome, e.Details, e.PrevHash, e.Hash)
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("append audit entry: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return store.AuditEntry{}, fmt.Errorf("commit audit entry: %w", err)
	}
	return e, nil
}

// AuditEntries streams audit entries in sequence order.
func (s *Store) AuditEntries(ctx context.Context, from, to time.Time, fn func(store.AuditEntry) error) error {
	q := `SELECT seq, time, actor, actor_ip, action, target, outcome, details, prev_hash, hash FROM audit_log WHERE 1=1`
	var args []any
	if !from.IsZero() {
		q += ` AND time >= ?`
		args = append(args, from.UnixMicro())
	}
	if !to.IsZero() {
		q += ` AND time < ?`
		args = append(args, to.UnixMicro())
	}
	return queryEach(ctx, s.db, "read audit trail", scanAuditEntry, fn, q+` ORDER BY seq`, args...)
}

func scanAuditEntry(r scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	var t int64
	err := r.Scan(&e.Seq, &t, &e.Actor, &e.ActorIP, &e.Action, &e.Target, &e.Outcome, &e.Details, &e.PrevHash, &e.Hash)
	e.Time = time.UnixMicro(t).UTC()
	return e, err
}

// DeleteAuditThrough removes the oldest audit entries, through seq.
func (s *Store) DeleteAuditThrough(ctx context.Context, seq int64) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM audit_log WHERE seq <= ?`, seq)
	if err != nil {
		return 0, fmt.Errorf("delete old audit entries: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
