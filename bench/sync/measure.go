package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// result is one row of the table.
type result struct {
	// list is the mean of two raw listings, list1 before the full sync
	// and list2 after the no-op, so that a change of the machine's load
	// during the row skews the ratios less.
	list, list1, list2, full, noop time.Duration
	// search is the search index's catch-up after a full sync that
	// deferred it (a background job in Shelf; 0 when not deferred).
	search             time.Duration
	listCPU            time.Duration
	fullCPU, noopCPU   time.Duration
	fullRSS, noopRSS   int64
	fullRows, noopRows int64
	// srv is the CPU of the storage server and of PostgreSQL per phase
	// (procstat.go).
	srv struct{ list, full, search, noop serverCPU }
}

// serverCPU is the CPU time of the storage server and of PostgreSQL.
type serverCPU struct{ store, pg time.Duration }

// servers are the PIDs of the storage server and of PostgreSQL's
// postmaster (0: none, or unknown).
type servers struct{ store, pg int }

func (s servers) cpu() serverCPU {
	var c serverCPU
	if s.store > 0 {
		c.store = procCPU(s.store, true)
	}
	c.pg = treeCPU(s.pg)
	return c
}

// since is the CPU used since c0.
func (s servers) since(c0 serverCPU) serverCPU {
	c := s.cpu()
	return serverCPU{c.store - c0.store, c.pg - c0.pg}
}

func measure(ctx context.Context, src *source, db, dir string, batch int) (result, error) {
	var r result
	ctx = pprof.WithLabels(ctx, pprof.Labels("storage", src.kind, "catalog", db, "objects", strconv.Itoa(src.n)))
	sc, ok := src.conn.(storage.SortedScanner)
	if !ok {
		return r, errors.New("the storage has no sorted scan")
	}
	listed := 0
	var err error
	srv := servers{store: src.serverPID}
	c0 := srv.cpu()
	r.list1, r.listCPU, _, err = phase(ctx, "list", func() error {
		return sc.ScanSorted(ctx, func(storage.Entry) error { listed++; return nil })
	})
	if err != nil {
		return r, fmt.Errorf("raw listing: %w", err)
	}
	r.srv.list = srv.since(c0)
	store, pgPID, cleanup, err := openCatalog(ctx, db, dir)
	if err != nil {
		return r, err
	}
	defer cleanup()
	now := time.Now()
	acct, err := store.CreateAccount(ctx, catalog.NewAccount{Name: "bench"}, now)
	if err != nil {
		return r, err
	}
	if _, err := store.PutConnection(ctx, catalog.Connection{AccountID: acct.ID, Kind: string(src.conn.Kind()), RootKey: "bench"}, now); err != nil {
		return r, err
	}
	eng, err := syncer.New(syncer.Config{Store: store, BatchSize: batch})
	if err != nil {
		return r, err
	}
	job := syncer.Job{AccountID: acct.ID, Conn: src.conn}
	var res syncer.Result
	srv.pg = pgPID
	c0 = srv.cpu()
	r.full, r.fullCPU, r.fullRSS, err = phase(ctx, "full", func() error {
		res, err = eng.Run(ctx, job)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("full sync: %w", err)
	}
	r.srv.full = srv.since(c0)
	if res.Counts.Seen != int64(listed) {
		return r, fmt.Errorf("full sync saw %d entries, the raw listing %d", res.Counts.Seen, listed)
	}
	r.fullRows = res.Writes + res.StageWrites
	c0 = srv.cpu()
	r.search, err = searchCatchUp(ctx, store, acct.ID, res)
	if err != nil {
		return r, fmt.Errorf("search catch-up: %w", err)
	}
	r.srv.search = srv.since(c0)
	c0 = srv.cpu()
	r.noop, r.noopCPU, r.noopRSS, err = phase(ctx, "noop", func() error {
		res, err = eng.Run(ctx, job)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("no-op sync: %w", err)
	}
	r.srv.noop = srv.since(c0)
	r.noopRows = res.Writes + res.StageWrites
	r.list2, _, _, err = phase(ctx, "list", func() error {
		return sc.ScanSorted(ctx, func(storage.Entry) error { return nil })
	})
	if err != nil {
		return r, fmt.Errorf("second raw listing: %w", err)
	}
	r.list = (r.list1 + r.list2) / 2
	return r, nil
}

// keepCatalogs (-keep) leaves each catalog in place after its row, for
// inspection: the SQLite file or the PostgreSQL database is named on
// stderr.
var keepCatalogs bool

// openCatalog opens a fresh, migrated catalog; for PostgreSQL it also
// returns the server's postmaster PID when the server runs on this
// machine (0 otherwise).
func openCatalog(ctx context.Context, db, dir string) (*catalog.Store, int, func(), error) {
	switch db {
	case "sqlite":
		path := filepath.Join(dir, "catalog-"+randomHex()+".db")
		s, err := catalog.Open(ctx, path+os.Getenv("BENCH_SQLITE_PARAMS"), nil)
		if err != nil {
			return nil, 0, nil, err
		}
		if err := s.Migrate(ctx); err != nil {
			return nil, 0, nil, err
		}
		return s, 0, func() {
			s.Close()
			if keepCatalogs {
				fmt.Fprintf(os.Stderr, "kept the SQLite catalog %s\n", path)
				return
			}
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(path + suffix)
			}
		}, nil
	case "postgres":
		admin := os.Getenv("SHELF_TEST_POSTGRES_URL")
		if admin == "" {
			return nil, 0, nil, errors.New("set SHELF_TEST_POSTGRES_URL to benchmark PostgreSQL")
		}
		name := "shelf_bench_" + randomHex()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return nil, 0, nil, err
		}
		defer conn.Close(ctx)
		pgPID := postmasterPID(ctx, conn)
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			return nil, 0, nil, err
		}
		u, err := url.Parse(admin)
		if err != nil {
			return nil, 0, nil, err
		}
		u.Path = "/" + name
		s, err := catalog.Open(ctx, u.String(), nil)
		if err != nil {
			return nil, 0, nil, err
		}
		if err := s.Migrate(ctx); err != nil {
			return nil, 0, nil, err
		}
		return s, pgPID, func() {
			s.Close()
			if keepCatalogs {
				fmt.Fprintf(os.Stderr, "kept the PostgreSQL database %s\n", name)
				return
			}
			if c, err := pgx.Connect(context.Background(), admin); err == nil {
				_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
				c.Close(context.Background())
			}
		}, nil
	}
	return nil, 0, nil, fmt.Errorf("unknown catalog %q (want sqlite or postgres)", db)
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
