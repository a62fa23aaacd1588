package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PathClaim is what a library write holds against every other library
// write of the account while it runs, in this process or another one
// sharing the database: the paths it writes and the folders it moves or
// deletes with everything under them. Two writes whose claims overlap never
// run at once, so a write's check that a name is free and the storage write
// that takes it cannot interleave with another write of that name.
type PathClaim struct {
	// Paths are single paths: a new file's or folder's, a moved file's
	// source and target.
	Paths []string
	// Trees are folders with everything under them: a moved folder's
	// source and target, a deleted folder.
	Trees []string
}

// PathBusyError is BeginWriteIntentOn's refusal: another library write in
// flight claims Path (or a folder around it, or a path under it).
type PathBusyError struct {
	// Path is the other write's claimed path that overlaps.
	Path string
	// Op is what the other write does ("upload", "move_asset", ...).
	Op string
}

func (e *PathBusyError) Error() string {
	return fmt.Sprintf("another library change (%s of %q) is in progress", e.Op, e.Path)
}

// claimedPath is one row of a claim.
type claimedPath struct {
	path string
	tree bool
	op   string
}

// rows returns the claim as rows, each path once (as a tree when it is
// claimed both ways).
func (c PathClaim) rows() []claimedPath {
	var out []claimedPath
	add := func(p string, tree bool) {
		for i := range out {
			if out[i].path == p {
				out[i].tree = out[i].tree || tree
				return
			}
		}
		out = append(out, claimedPath{path: p, tree: tree})
	}
	for _, p := range c.Trees {
		add(p, true)
	}
	for _, p := range c.Paths {
		add(p, false)
	}
	return out
}

// overlaps reports whether two claimed paths may not be written at once:
// the same path, or one inside a claimed tree.
func overlaps(a, b claimedPath) bool {
	return a.path == b.path ||
		a.tree && strings.HasPrefix(b.path, a.path+"/") ||
		b.tree && strings.HasPrefix(a.path, b.path+"/")
}

// BeginWriteIntentOn is BeginWriteIntent for a write that also claims
// paths: while the intent lives (until the catalog commit that records the
// write, EndWriteIntent, or its expiry when the writing process died),
// every other claim that overlaps is refused with *PathBusyError. A folder
// move whose subtree is still being rewritten claims its old and new trees
// the same way until its last batch (see MoveFolder). The lease check, the
// claim check and the claim are one transaction holding the account.
//
// A folder move that a dead process left part-way is finished first.
func (s *Store) BeginWriteIntentOn(ctx context.Context, accountID, userID int64, op string, claim PathClaim, now time.Time, ttl time.Duration) (int64, error) {
	want := claim.rows()
	for _, c := range want {
		if c.path == "" || strings.HasPrefix(c.path, "/") || strings.HasSuffix(c.path, "/") {
			return 0, fmt.Errorf("claiming %q for a library write: a claimed path is root-relative, without a leading or trailing slash", c.path)
		}
	}
	id, err := s.beginWriteIntentOn(ctx, accountID, userID, op, want, now, ttl)
	if errors.Is(err, errAbandonedMove) {
		start := time.Now()
		if err := s.finishAbandonedMoves(ctx, accountID, now); err != nil {
			return 0, err
		}
		id, err = s.beginWriteIntentOn(ctx, accountID, userID, op, want, now.Add(time.Since(start)), ttl)
	}
	return id, err
}

func (s *Store) beginWriteIntentOn(ctx context.Context, accountID, userID int64, op string, want []claimedPath, now time.Time, ttl time.Duration) (int64, error) {
	var id int64
	err := waitLive(ctx, now, func(now time.Time) error {
		return s.InTx(ctx, func(tx *sql.Tx) error {
			if err := s.lockAccount(ctx, tx, accountID); err != nil {
				return err
			}
			if err := s.checkUnlocked(ctx, tx, accountID, now); err != nil {
				return err
			}
			// Expired intents go with their claims (ON DELETE CASCADE): a
			// process that died holds nothing for longer than its intent's ttl.
			if _, err := s.exec(ctx, tx, `DELETE FROM write_intents WHERE account_id = ? AND expires_at <= ?`, accountID, ms(now)); err != nil {
				return fmt.Errorf("clearing expired write intents: %w", err)
			}
			moves, abandoned, err := s.pendingMoves(ctx, tx, accountID, now)
			switch {
			case err != nil:
				return err
			case abandoned:
				return errAbandonedMove
			}
			if len(want) > 0 {
				if err := s.checkClaim(ctx, tx, accountID, want, moves); err != nil {
					return err
				}
			}
			var user any
			if userID != 0 {
				user = userID
			}
			err = s.queryRow(ctx, tx, `INSERT INTO write_intents (account_id, user_id, op, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
				accountID, user, op, ms(now), ms(now.Add(ttl))).Scan(&id)
			if err != nil {
				return fmt.Errorf("recording write intent: %w", mapErr(err))
			}
			for _, c := range want {
				if _, err := s.exec(ctx, tx, `INSERT INTO write_intent_paths (intent_id, account_id, path, tree) VALUES (?, ?, ?, ?)`,
					id, accountID, c.path, c.tree); err != nil {
					if errors.Is(mapErr(err), ErrConflict) {
						return &PathBusyError{Path: c.path, Op: "another write"}
					}
					return fmt.Errorf("claiming %q for a library write: %w", c.path, err)
				}
			}
			return nil
		})
	})
	return id, err
}

// checkClaim returns *PathBusyError when a live claim of the account, or
// one of held (the trees of unfinished folder moves), overlaps one of want.
// The caller holds the account and has cleared the expired intents.
func (s *Store) checkClaim(ctx context.Context, tx *sql.Tx, accountID int64, want, held []claimedPath) error {
	rows, err := s.query(ctx, tx, `SELECT p.path, p.tree, i.op FROM write_intent_paths p
JOIN write_intents i ON i.id = p.intent_id
WHERE p.account_id = ?`, accountID)
	if err != nil {
		return fmt.Errorf("reading the paths claimed by library writes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c claimedPath
		if err := rows.Scan(&c.path, &c.tree, &c.op); err != nil {
			return fmt.Errorf("reading the paths claimed by library writes: %w", err)
		}
		held = append(held, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the paths claimed by library writes: %w", err)
	}
	for _, h := range held {
		for _, w := range want {
			if overlaps(h, w) {
				return &PathBusyError{Path: h.path, Op: h.op}
			}
		}
	}
	return nil
}
