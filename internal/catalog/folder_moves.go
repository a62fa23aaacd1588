package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A folder move rewrites the path of everything under the folder, and the
// storage ID of whatever is identified by its path (S3 keys, local paths):
// 100,000 rows for a big folder. Done in one transaction that would hold
// every other write of the account (and, on SQLite, of the database) for
// seconds, so a big subtree is rewritten in short batches instead, each
// its own transaction, while a folder_moves row keeps the move "in flight":
// its two trees stay claimed (other writes there get *PathBusyError) and a
// sync waits for it as for a write intent. A process that dies part-way
// leaves the row; once it expires, the next library write or sync of the
// account takes the rewrite over and finishes it.

const (
	// folderMoveBatch is the first batch of a folder move's rewrite, in
	// rows, and the size up to which a subtree is rewritten in the move's
	// own transaction.
	folderMoveBatch = 2000
	// moveBatchTime is how long each later batch aims to hold the account:
	// the batch size follows the rows per second the previous batch did,
	// within [minMoveBatch, maxMoveBatch]. Fewer, bigger batches cost less
	// in all (SQLite writes a changed index page to its log once per
	// transaction); smaller ones hold the account for less.
	moveBatchTime = 200 * time.Millisecond
	minMoveBatch  = 500
	maxMoveBatch  = 50000
	// folderMoveTTL is how long a rewrite stays with its process after its
	// latest batch; past it the process is taken for dead.
	folderMoveTTL = 30 * time.Second
	// maxWriterYield bounds the pause between two batches while other
	// writers of this process wait for the database, and writerGap is the
	// pause when none is known to wait (see yieldToWriters).
	maxWriterYield = 250 * time.Millisecond
	writerGap      = 10 * time.Millisecond
	// idListChunk bounds how many ids one SQLite statement lists.
	idListChunk = 1000
)

// errMoveTakenOver: another process took the rewrite over (this one was
// taken for dead) or finished it; this one stops.
var errMoveTakenOver = errors.New("the folder move's rewrite was taken over")

// errAbandonedMove: a folder move of the account was left part-way by a
// process that died; the caller finishes it and tries again.
var errAbandonedMove = errors.New("a folder move was left unfinished")

// FolderMoveTuning adjusts how folder moves rewrite big subtrees, for tests
// and benchmarks; the zero value is the default.
type FolderMoveTuning struct {
	// BatchRows, when set, is how many rows each transaction rewrites
	// (instead of as many as take about moveBatchTime), and the size up to
	// which a subtree is rewritten in the move's own transaction.
	BatchRows int
	// AfterBatch, when set, runs after each committed batch with the number
	// of batches done and how long the batch held the account (from taking
	// its lock to the commit); an error stops the rewrite there, as if the
	// process had died.
	AfterBatch func(batches int, held time.Duration) error
}

// TuneFolderMoves sets how folder moves rewrite big subtrees; call it
// before the store is in use.
func (s *Store) TuneFolderMoves(t FolderMoveTuning) { s.moveTuning = t }

func (s *Store) moveBatchRows() int {
	if s.moveTuning.BatchRows > 0 {
		return s.moveTuning.BatchRows
	}
	return folderMoveBatch
}

// folderMove is a row of folder_moves: a moved folder whose subtree is not
// yet wholly rewritten from oldPath to newPath.
type folderMove struct {
	id, accountID, folderID int64
	oldPath, newPath        string
	// holder is the generation of whoever rewrites it; a takeover bumps it.
	holder int64
}

// subtreeLarger reports whether the folders and live assets under folder
// id (the folder itself included) are more than limit rows, counting no
// further than that.
func (s *Store) subtreeLarger(ctx context.Context, tx *sql.Tx, accountID, id int64, limit int) (bool, error) {
	var n int
	err := s.queryRow(ctx, tx, folderSubtreeSQL+`SELECT
    (SELECT COUNT(*) FROM (SELECT 1 FROM tree LIMIT ?) f) +
    (SELECT COUNT(*) FROM (SELECT 1 FROM assets WHERE account_id = ? AND removed_at IS NULL AND folder_id IN (SELECT id FROM tree) LIMIT ?) a)`,
		id, accountID, accountID, limit+1, accountID, limit+1).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sizing the folder's subtree: %w", mapErr(err))
	}
	return n > limit, nil
}

// startFolderMove records a move whose subtree is rewritten in batches
// after tx commits.
func (s *Store) startFolderMove(ctx context.Context, tx *sql.Tx, accountID, folderID int64, oldPath, newPath string, now time.Time) (folderMove, error) {
	mv := folderMove{accountID: accountID, folderID: folderID, oldPath: oldPath, newPath: newPath, holder: 1}
	err := s.queryRow(ctx, tx, `INSERT INTO folder_moves (account_id, folder_id, old_path, new_path, holder, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, accountID, folderID, oldPath, newPath, mv.holder, ms(now), ms(now.Add(folderMoveTTL))).Scan(&mv.id)
	if err != nil {
		return folderMove{}, fmt.Errorf("recording the move of folder %q: %w", oldPath, mapErr(err))
	}
	return mv, nil
}

// moveRows is what a rewrite has left to do: the folders and live assets
// under the moved folder, by id. Rows already rewritten may be among them
// (a rewrite taken over); the batches skip them.
type moveRows struct {
	folders, assets []int64
}

// readMoveRows lists the rows under mv's folder. It holds no lock: nothing
// else writes under a folder that is being moved (its trees are claimed and
// syncs wait), bar metadata edits, which change no path. Listing the rows
// regardless of their paths lets PostgreSQL read the ids from an index.
// Assets come in each folder's name order (their path order), so that a
// batch changes a narrow band of the path and storage ID indexes, not
// pages all over them.
func (s *Store) readMoveRows(ctx context.Context, q querier, mv folderMove) (moveRows, error) {
	var out moveRows
	var err error
	out.folders, err = s.readIDs(ctx, q, folderSubtreeSQL+`SELECT id FROM tree WHERE id <> ? ORDER BY id`,
		mv.folderID, mv.accountID, mv.accountID, mv.folderID)
	if err != nil {
		return moveRows{}, fmt.Errorf("listing the folders under %q: %w", mv.newPath, err)
	}
	out.assets, err = s.readIDs(ctx, q, folderSubtreeSQL+`SELECT id FROM assets
WHERE account_id = ? AND removed_at IS NULL AND folder_id IN (SELECT id FROM tree) ORDER BY folder_id, lower(name), id`,
		mv.folderID, mv.accountID, mv.accountID, mv.accountID)
	if err != nil {
		return moveRows{}, fmt.Errorf("listing the assets under %q: %w", mv.newPath, err)
	}
	return out, nil
}

func (s *Store) readIDs(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := s.query(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, id)
	}
	return out, mapErr(rows.Err())
}

// take removes up to n rows from the front of r, folders first (a reader
// then sees the folder tree settled before the assets in it).
func (r *moveRows) take(n int) moveRows {
	var out moveRows
	k := min(n, len(r.folders))
	out.folders, r.folders = r.folders[:k], r.folders[k:]
	k = min(n-k, len(r.assets))
	out.assets, r.assets = r.assets[:k], r.assets[k:]
	return out
}

func (r moveRows) empty() bool { return len(r.folders) == 0 && len(r.assets) == 0 }

// runFolderMove rewrites what is left of mv in batches, each a transaction
// that holds the account for that batch only (about moveBatchTime), and
// deletes the folder_moves row with the last one. now is the caller's
// clock at the start; it moves on with the time spent.
func (s *Store) runFolderMove(ctx context.Context, mv folderMove, now time.Time) error {
	start := time.Now()
	clock := func() time.Time { return now.Add(time.Since(start)) }
	left, err := s.readMoveRows(ctx, s.db, mv)
	if err != nil {
		return err
	}
	size := s.moveBatchRows()
	for batches := 1; ; batches++ {
		batch := left.take(size)
		last := left.empty()
		began := time.Now()
		var locked time.Time
		err := s.InTx(ctx, func(tx *sql.Tx) error {
			if err := s.lockAccount(ctx, tx, mv.accountID); err != nil {
				return err
			}
			locked = time.Now()
			var mine int
			if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM folder_moves WHERE id = ? AND holder = ?`, mv.id, mv.holder).Scan(&mine); err != nil {
				return fmt.Errorf("checking the folder move: %w", mapErr(err))
			}
			if mine == 0 {
				return errMoveTakenOver
			}
			return s.rewriteMoveBatch(ctx, tx, mv, batch, last, clock())
		})
		if errors.Is(err, errMoveTakenOver) {
			s.logger.Info("another process finishes this folder move", "account_id", mv.accountID, "folder", mv.newPath)
			return nil
		}
		if errors.Is(err, ErrConflict) {
			s.giveUpFolderMove(ctx, s.db, mv, err)
		}
		if err != nil {
			return err
		}
		if hook := s.moveTuning.AfterBatch; hook != nil {
			if err := hook(batches, time.Since(locked)); err != nil {
				return err
			}
		}
		if last {
			return nil
		}
		if s.moveTuning.BatchRows == 0 {
			size = nextBatchSize(len(batch.folders)+len(batch.assets), time.Since(began))
		}
		s.yieldToWriters(ctx)
	}
}

// nextBatchSize is how many rows the next batch takes after one of rows
// took took: as many as fit in moveBatchTime at that pace.
func nextBatchSize(rows int, took time.Duration) int {
	if took <= 0 {
		return maxMoveBatch
	}
	return max(minMoveBatch, min(maxMoveBatch, int(float64(rows)*float64(moveBatchTime)/float64(took))))
}

// rewriteMoveBatch rewrites the rows of batch from mv's old path to its new
// one, then pushes the move's expiry on, or deletes it when last. Rows no
// longer under the old path are left alone, so a batch done twice (a
// takeover) changes nothing more. Tombstones sitting on the storage IDs the
// batch's assets take are deleted first, as a single move's are.
func (s *Store) rewriteMoveBatch(ctx context.Context, tx *sql.Tx, mv folderMove, batch moveRows, last bool, now time.Time) error {
	prefix := mv.oldPath + "/"
	plen := utf8.RuneCountInString(prefix)
	cut := utf8.RuneCountInString(mv.oldPath) + 1 // substr(path, cut) is "/rest": SQL counts characters from 1
	for _, in := range s.idsIn(batch.folders) {
		if _, err := s.exec(ctx, tx, `UPDATE folders SET
    storage_id = CASE WHEN storage_id = path THEN ? || substr(path, ?) ELSE storage_id END,
    path = ? || substr(path, ?), updated_at = ?
WHERE account_id = ? AND substr(path, 1, ?) = ? AND id `+in.sql,
			in.after(mv.newPath, cut, mv.newPath, cut, ms(now), mv.accountID, plen, prefix)...); err != nil {
			return fmt.Errorf("rewriting folder paths under %q: %w", mv.newPath, err)
		}
	}
	for _, in := range s.idsIn(batch.assets) {
		if _, err := s.exec(ctx, tx, `DELETE FROM assets WHERE account_id = ? AND removed_at IS NOT NULL AND storage_id IN (
    SELECT ? || substr(a.storage_id, ?) FROM assets a
    WHERE a.account_id = ? AND a.removed_at IS NULL AND a.storage_id = a.path AND substr(a.path, 1, ?) = ? AND a.id `+in.sql+`)`,
			in.after(mv.accountID, mv.newPath, cut, mv.accountID, plen, prefix)...); err != nil {
			return fmt.Errorf("clearing removed assets in the way of the move: %w", err)
		}
		if _, err := s.exec(ctx, tx, `UPDATE assets SET
    storage_id = CASE WHEN storage_id = path THEN ? || substr(path, ?) ELSE storage_id END,
    path = ? || substr(path, ?), updated_at = ?
WHERE account_id = ? AND removed_at IS NULL AND substr(path, 1, ?) = ? AND id `+in.sql,
			in.after(mv.newPath, cut, mv.newPath, cut, ms(now), mv.accountID, plen, prefix)...); err != nil {
			return fmt.Errorf("rewriting asset paths under %q: %w", mv.newPath, err)
		}
	}
	if last {
		if _, err := s.exec(ctx, tx, `DELETE FROM folder_moves WHERE id = ?`, mv.id); err != nil {
			return fmt.Errorf("finishing the folder move: %w", err)
		}
		return nil
	}
	if _, err := s.exec(ctx, tx, `UPDATE folder_moves SET expires_at = ? WHERE id = ?`, ms(now.Add(folderMoveTTL)), mv.id); err != nil {
		return fmt.Errorf("renewing the folder move: %w", err)
	}
	return nil
}

// idSet is a condition "<column> in these ids" (sql follows the column)
// with its argument, if any.
type idSet struct {
	sql string
	arg []any
}

// after returns the arguments of a statement whose id condition comes
// last: args, then the set's own.
func (in idSet) after(args ...any) []any { return append(args, in.arg...) }

// idsIn renders ids as conditions: one array parameter on PostgreSQL (a
// list of literals would cost more to plan than to run), lists of at most
// idListChunk literals on SQLite (integers, so they go into the SQL text as
// they are).
func (s *Store) idsIn(ids []int64) []idSet {
	if len(ids) == 0 {
		return nil
	}
	if s.dialect == DialectPostgres {
		return []idSet{{sql: "= ANY(?)", arg: []any{ids}}}
	}
	var out []idSet
	for len(ids) > 0 {
		n := min(len(ids), idListChunk)
		var b strings.Builder
		b.WriteString("IN (")
		for i, id := range ids[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		b.WriteByte(')')
		out = append(out, idSet{sql: b.String()})
		ids = ids[n:]
	}
	return out
}

// yieldToWriters pauses between two batches of a rewrite until a writer
// of this process that queued behind the batch got the database (or
// maxWriterYield passed), or for writerGap when none is known to wait.
// Neither database hands a released lock to the writer that waited for
// it: SQLite writers poll for it with growing sleeps, and a PostgreSQL
// transaction that finds the account's row free takes it before a waiter
// that is being woken. A rewrite that began its next batch at once would
// keep the account's other writes out until its end; the gap gives the
// writers this process does not see (other processes) their chance.
func (s *Store) yieldToWriters(ctx context.Context) {
	pause := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	if s.writersWaiting.Load() == 0 {
		pause(writerGap)
		return
	}
	begun := s.writersBegun.Load()
	deadline := time.Now().Add(maxWriterYield)
	for s.writersWaiting.Load() > 0 && s.writersBegun.Load() == begun && time.Now().Before(deadline) {
		if !pause(time.Millisecond) {
			return
		}
	}
}

// pendingMoves reads the account's unfinished folder moves and whether one
// of them is abandoned (expired at now: its process died).
func (s *Store) pendingMoves(ctx context.Context, q querier, accountID int64, now time.Time) (moves []claimedPath, abandoned bool, err error) {
	rows, err := s.query(ctx, q, `SELECT old_path, new_path, expires_at FROM folder_moves WHERE account_id = ?`, accountID)
	if err != nil {
		return nil, false, fmt.Errorf("reading unfinished folder moves: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			from, to string
			expires  int64
		)
		if err := rows.Scan(&from, &to, &expires); err != nil {
			return nil, false, fmt.Errorf("reading unfinished folder moves: %w", mapErr(err))
		}
		moves = append(moves, claimedPath{path: from, tree: true, op: "move_folder"}, claimedPath{path: to, tree: true, op: "move_folder"})
		abandoned = abandoned || expires <= ms(now)
	}
	return moves, abandoned, mapErr(rows.Err())
}

// takeAbandonedMove takes over one abandoned folder move of the account, if
// there is one: it becomes this caller's to finish.
func (s *Store) takeAbandonedMove(ctx context.Context, tx *sql.Tx, accountID int64, now time.Time) (folderMove, bool, error) {
	mv := folderMove{accountID: accountID}
	err := s.queryRow(ctx, tx, `SELECT id, folder_id, old_path, new_path, holder FROM folder_moves
WHERE account_id = ? AND expires_at <= ? ORDER BY id LIMIT 1`, accountID, ms(now)).Scan(&mv.id, &mv.folderID, &mv.oldPath, &mv.newPath, &mv.holder)
	if errors.Is(mapErr(err), ErrNotFound) {
		return folderMove{}, false, nil
	}
	if err != nil {
		return folderMove{}, false, fmt.Errorf("reading an unfinished folder move: %w", mapErr(err))
	}
	mv.holder++
	if _, err := s.exec(ctx, tx, `UPDATE folder_moves SET holder = ?, expires_at = ? WHERE id = ?`, mv.holder, ms(now.Add(folderMoveTTL)), mv.id); err != nil {
		return folderMove{}, false, fmt.Errorf("taking over an unfinished folder move: %w", err)
	}
	return mv, true, nil
}

// giveUpFolderMove drops a rewrite that cannot be finished: a path it
// gives a row is taken by a row outside the moved folder, which only a
// catalog already at odds with the storage has. Retrying would fail every
// time; the next sync brings the rows left with their old paths in line
// with the storage instead.
func (s *Store) giveUpFolderMove(ctx context.Context, q querier, mv folderMove, cause error) {
	s.logger.Error("a folder move cannot rewrite every path under the folder; the next sync reconciles the rest with the storage",
		"account_id", mv.accountID, "from", mv.oldPath, "to", mv.newPath, "error", cause.Error())
	if _, err := s.exec(ctx, q, `DELETE FROM folder_moves WHERE id = ? AND holder = ?`, mv.id, mv.holder); err != nil {
		s.logger.Error("dropping a folder move that cannot be finished", "account_id", mv.accountID, "error", err.Error())
	}
}

// finishAbandonedMoves finishes, batch by batch, every folder move of the
// account that a dead process left part-way.
func (s *Store) finishAbandonedMoves(ctx context.Context, accountID int64, now time.Time) error {
	start := time.Now()
	for {
		var (
			mv    folderMove
			taken bool
		)
		at := now.Add(time.Since(start))
		err := s.InTx(ctx, func(tx *sql.Tx) error {
			if err := s.lockAccount(ctx, tx, accountID); err != nil {
				return err
			}
			var err error
			mv, taken, err = s.takeAbandonedMove(ctx, tx, accountID, at)
			return err
		})
		if err != nil || !taken {
			return err
		}
		s.logger.Warn("finishing a folder move that a stopped process left part-way",
			"account_id", accountID, "from", mv.oldPath, "to", mv.newPath)
		err = s.runFolderMove(ctx, mv, at)
		if err != nil && !errors.Is(err, ErrConflict) { // given up: see giveUpFolderMove
			return fmt.Errorf("finishing the move of folder %q to %q: %w", mv.oldPath, mv.newPath, err)
		}
	}
}

// finishAbandonedMovesTx is finishAbandonedMoves inside a transaction that
// already holds the account (a live batch taking the lease): the rest of
// each rewrite in this one transaction. Only a crash leaves work for it.
func (s *Store) finishAbandonedMovesTx(ctx context.Context, tx *sql.Tx, accountID int64, now time.Time) error {
	for {
		mv, taken, err := s.takeAbandonedMove(ctx, tx, accountID, now)
		if err != nil || !taken {
			return err
		}
		if _, err := s.exec(ctx, tx, `SAVEPOINT folder_move`); err != nil {
			return fmt.Errorf("finishing a folder move: %w", err)
		}
		err = func() error {
			left, err := s.readMoveRows(ctx, tx, mv)
			if err != nil {
				return err
			}
			return s.rewriteMoveBatch(ctx, tx, mv, left, true, now)
		}()
		switch {
		case errors.Is(err, ErrConflict):
			if _, err := s.exec(ctx, tx, `ROLLBACK TO SAVEPOINT folder_move`); err != nil {
				return fmt.Errorf("finishing a folder move: %w", err)
			}
			s.giveUpFolderMove(ctx, tx, mv, err)
		case err != nil:
			return err
		}
		if _, err := s.exec(ctx, tx, `RELEASE SAVEPOINT folder_move`); err != nil {
			return fmt.Errorf("finishing a folder move: %w", err)
		}
	}
}
