package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/riverqueue/river"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/connections"
	"github.com/shelf-dam/shelf/internal/jobs"
	"github.com/shelf-dam/shelf/internal/library"
	"github.com/shelf-dam/shelf/internal/media"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// Services are the long-running parts of a Shelf process beside HTTP: the
// live event hub, the storage connections, the sync engine and the job
// service (River).
type Services struct {
	Hub        *notify.Hub
	Conns      *connections.Service
	Engine     *syncer.Engine
	Jobs       *jobs.Service
	Dispatcher *notify.Dispatcher
	Media      *media.Service
	Library    *library.Service
	work       bool
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
	dispatcher := notify.NewDispatcher(notify.DispatcherConfig{
		Store: a.Store,
		Hub:   hub,
		OpenSecret: func(w catalog.Webhook) ([]byte, error) {
			return a.Box.Open(w.Secret, notify.WebhookSecretContext(w.AccountID))
		},
		Mailer:               notify.NewMailer(notify.SMTPConfig{Addr: a.Cfg.SMTPAddr, From: a.Cfg.SMTPFrom, User: a.Cfg.SMTPUser, Password: a.Cfg.SMTPPassword}),
		PublicURL:            a.Cfg.PublicURL,
		AllowPrivateWebhooks: a.Cfg.WebhookAllowPrivate,
		Logger:               a.Logger,
		Now:                  a.Now,
	})
	conns := &connections.Service{Store: a.Store, Box: a.Box, Cfg: a.Cfg, Logger: a.Logger, Now: a.Now, HTTPClient: opts.HTTPClient,
		OnNeedsReconnect: func(ctx context.Context, accountID int64, message string) {
			dispatcher.StorageNeedsReconnect(ctx, accountID, message)
		}}
	engine, err := syncer.New(syncer.Config{Store: a.Store, Logger: a.Logger, Clock: a.Now})
	if err != nil {
		hub.Stop()
		return nil, err
	}
	mediaSvc := media.NewService(media.ServiceConfig{
		Store:     a.Store,
		Connect:   conns.Connector,
		Generator: media.NewGenerator(media.Config{Tools: media.DetectTools(a.Logger), Logger: a.Logger}),
		Thumbs:    media.NewThumbStore(a.Cfg.DataDir),
		Logger:    a.Logger,
		Now:       a.Now,
	})
	var js *jobs.Service
	jcfg := jobs.Config{
		Store:    a.Store,
		Policy:   a.Policy,
		Connect:  conns.Connector,
		Sync:     a.syncFunc(engine, conns),
		Hub:      hub,
		Finished: func(ctx context.Context, run catalog.SyncRun) error { return a.runFinished(ctx, js, dispatcher, run) },
		Logger:   a.Logger,
		Now:      a.Now,
		Work:     opts.Work,

		SchedulerInterval: a.Cfg.SchedulerInterval,
		LeaseTTL:          a.Cfg.LeaseTTL,
		SyncWorkers:       a.Cfg.SyncWorkers,
		RegisterWorkers: func(w *river.Workers) {
			dispatcher.RegisterWorkers(w)
			river.AddWorker(w, media.NewThumbWorker(mediaSvc))
			river.AddWorker(w, media.NewPendingWorker(mediaSvc, a.Store))
			river.AddWorker(w, media.NewSweepWorker(mediaSvc.Thumbs(), a.Store))
		},
		Queues: map[string]int{media.Queue: 2},
	}
	if opts.Jobs != nil {
		opts.Jobs(&jcfg)
	}
	js, err = jobs.New(jcfg)
	if err != nil {
		hub.Stop()
		return nil, err
	}
	dispatcher.SetEnqueue(js.Enqueue)
	lib := library.New(library.Config{
		Catalog: a.Store,
		Connect: conns.Connector,
		EnqueueThumb: func(ctx context.Context, accountID, assetID int64) error {
			return js.Enqueue(ctx, media.ThumbArgs{AccountID: accountID, AssetID: assetID})
		},
		Publish: dispatcher.Emit,
		Logger:  a.Logger,
		Now:     a.Now,
	})
	if opts.Work {
		if err := js.Start(ctx); err != nil {
			hub.Stop()
			return nil, fmt.Errorf("starting job workers: %w", err)
		}
	}
	return &Services{Hub: hub, Conns: conns, Engine: engine, Jobs: js, Dispatcher: dispatcher, Media: mediaSvc, Library: lib, work: opts.Work}, nil
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
			AccountID:           req.AccountID,
			RunID:               req.RunID,
			Conn:                req.Conn,
			Cursor:              conn.SyncCursor,
			LastFullScan:        conn.LastFullScanAt,
			Progress:            req.Progress,
			ConfirmedMassDelete: req.ConfirmedMassDelete,
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
		return jobs.SyncResult{Counts: res.Counts, NeedsConfirmation: res.State == catalog.RunNeedsConfirmation, Message: res.Message,
			PendingRemovals: res.PendingRemovals, PendingRemovalPaths: res.PendingRemovalPaths}, nil
	}
}

// runFinished tells people about an ended run (notification, webhooks,
// email) and, when the run changed files, queues the making of their
// previews and the removal of the previews of removed files.
func (a *App) runFinished(ctx context.Context, js *jobs.Service, d *notify.Dispatcher, run catalog.SyncRun) error {
	if run.State == catalog.RunSucceeded || run.State == catalog.RunNeedsConfirmation {
		if run.Counts.Added+run.Counts.Updated+run.Counts.Moved > 0 {
			if err := js.Enqueue(ctx, media.PendingArgs{AccountID: run.AccountID}); err != nil {
				a.Logger.WarnContext(ctx, "queueing previews after sync", "account_id", run.AccountID, "err", err)
			}
		}
		if run.Counts.Removed > 0 {
			if err := js.Enqueue(ctx, media.SweepArgs{AccountID: run.AccountID}); err != nil {
				a.Logger.WarnContext(ctx, "queueing the preview sweep after sync", "account_id", run.AccountID, "err", err)
			}
		}
	}
	return d.RunFinished(ctx, run)
}
