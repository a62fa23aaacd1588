package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/connections"
	"github.com/shelf-dam/shelf/internal/jobs"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// Services are the long-running parts of a Shelf process beside HTTP: the
// live event hub, the storage connections, the sync engine and the job
// service (River).
type Services struct {
	Hub    *notify.Hub
	Conns  *connections.Service
	Engine *syncer.Engine
	Jobs   *jobs.Service
	work   bool
}

// ServicesOptions tune StartServices.
type ServicesOptions struct {
	// Work makes this process work jobs (serve, worker, demo); a CLI
	// command that only enqueues leaves it false.
	Work bool
	// HTTPClient carries storage requests (tests); nil: defaults.
	HTTPClient *http.Client
	// Jobs overrides job settings (tests: short intervals).
	Jobs func(*jobs.Config)
}

// StartServices builds and starts the services. Stop them with Stop.
func (a *App) StartServices(ctx context.Context, opts ServicesOptions) (*Services, error) {
	hub := notify.NewHub(notify.HubConfig{Logger: a.Logger, Pool: a.Store.PgxPool()})
	if err := hub.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the live event hub: %w", err)
	}
	conns := &connections.Service{Store: a.Store, Box: a.Box, Cfg: a.Cfg, Logger: a.Logger, Now: a.Now, HTTPClient: opts.HTTPClient}
	engine, err := syncer.New(syncer.Config{Store: a.Store, Logger: a.Logger, Clock: a.Now})
	if err != nil {
		hub.Stop()
		return nil, err
	}
	jcfg := jobs.Config{
		Store:   a.Store,
		Policy:  a.Policy,
		Connect: conns.Connector,
		Sync:    a.syncFunc(engine, conns),
		Hub:     hub,
		Logger:  a.Logger,
		Now:     a.Now,
		Work:    opts.Work,
	}
	if opts.Jobs != nil {
		opts.Jobs(&jcfg)
	}
	js, err := jobs.New(jcfg)
	if err != nil {
		hub.Stop()
		return nil, err
	}
	if opts.Work {
		if err := js.Start(ctx); err != nil {
			hub.Stop()
			return nil, fmt.Errorf("starting job workers: %w", err)
		}
	}
	return &Services{Hub: hub, Conns: conns, Engine: engine, Jobs: js, work: opts.Work}, nil
}

// Stop stops the job workers (letting running jobs finish until ctx ends)
// and the hub.
func (s *Services) Stop(ctx context.Context) error {
	var err error
	if s.work {
		err = s.Jobs.Stop(ctx)
	}
	s.Hub.Stop()
	return err
}

// syncFunc adapts the sync engine to the job service: it reads the saved
// cursor of the connection, runs the engine and reports rejected
// credentials on the connection.
func (a *App) syncFunc(engine *syncer.Engine, conns *connections.Service) jobs.SyncFunc {
	return func(ctx context.Context, req jobs.SyncRequest) (jobs.SyncResult, error) {
		conn, err := a.Store.GetConnection(ctx, req.AccountID)
		if errors.Is(err, catalog.ErrNotFound) {
			return jobs.SyncResult{}, connections.ErrNoStorage
		}
		if err != nil {
			return jobs.SyncResult{}, err
		}
		res, err := engine.Run(ctx, syncer.Job{
			AccountID:    req.AccountID,
			RunID:        req.RunID,
			Conn:         req.Conn,
			Cursor:       conn.SyncCursor,
			LastFullScan: conn.LastFullScanAt,
			Progress:     req.Progress,
		})
		if err != nil {
			conns.MarkFailure(ctx, req.AccountID, err)
			return jobs.SyncResult{Counts: res.Counts}, err
		}
		if conn.Status != catalog.ConnOK {
			// A sync that worked proves the connection works again.
			if uerr := a.Store.SetConnectionStatus(ctx, req.AccountID, catalog.ConnOK, "", a.Now()); uerr != nil {
				a.Logger.WarnContext(ctx, "clearing storage status", "err", uerr)
			}
		}
		return jobs.SyncResult{Counts: res.Counts, NeedsConfirmation: res.State == catalog.RunNeedsConfirmation, Message: res.Message}, nil
	}
}
