package app

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/connections"
	"github.com/shelf-dam/shelf/internal/embedmeta"
	"github.com/shelf-dam/shelf/internal/library"
	"github.com/shelf-dam/shelf/internal/live"
	"github.com/shelf-dam/shelf/internal/media"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/queue"
	"github.com/shelf-dam/shelf/internal/syncer"
	"github.com/shelf-dam/shelf/internal/syncrun"
)

// Services are the long-running parts of a Shelf process beside HTTP: the
// live event hub, the storage connections, the job queue, the sync service
// (which owns every sync's life), the messages, previews and library
// writes.
type Services struct {
	Hub        *notify.Hub
	Conns      *connections.Service
	Queue      *queue.Queue
	Syncs      *syncrun.Service
	Dispatcher *notify.Dispatcher
	Media      *media.Service
	Library    *library.Service
	// Live watches the live accounts this process holds and applies their
	// changes (processes that work jobs); Events receives the storages'
	// notifications (every process).
	Live   *live.Service
	Events *live.Receiver
	work   bool
	stop   context.CancelFunc
	done   chan struct{}
}

// ServicesOptions tune StartServices.
type ServicesOptions struct {
	// Work makes this process work jobs (serve, worker, demo); a CLI
	// command that only enqueues leaves it false.
	Work bool
	// HTTPClient carries storage requests (tests); nil: defaults.
	HTTPClient *http.Client
	// Syncs overrides sync settings (tests: short intervals).
	Syncs func(*syncrun.Config)
	// FetchPollInterval overrides the queue's poll fallback (tests).
	FetchPollInterval time.Duration
	// Live overrides live sync settings (tests: quick supervision).
	Live func(*live.Config)
}

// StartServices builds and starts the services. Stop them with Stop.
func (a *App) StartServices(ctx context.Context, opts ServicesOptions) (*Services, error) {
	hub := notify.NewHub(notify.HubConfig{Logger: a.Logger, Pool: a.Store.PgxPool()})
	if err := hub.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the live event hub: %w", err)
	}
	maxSync := syncrun.DefaultMaxSyncDuration
	q, err := queue.New(queue.Config{
		Store:  a.Store,
		Logger: a.Logger,
		Work:   opts.Work,
		Queues: map[string]int{river.QueueDefault: max(a.Cfg.SyncWorkers, 1), media.Queue: 2, embedmeta.Queue: 1},
		// A live sync may run for hours; its lease tells sooner that its
		// worker died.
		RescueStuckJobsAfter: maxSync + time.Hour,
		FetchPollInterval:    opts.FetchPollInterval,
	})
	if err != nil {
		hub.Stop()
		return nil, err
	}
	dispatcher := notify.NewDispatcher(notify.DispatcherConfig{
		Store: a.Store,
		Queue: q,
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
		OnNeedsReconnect: dispatcher.StorageNeedsReconnect}
	engine, err := syncer.New(syncer.Config{Store: a.Store, Logger: a.Logger, Clock: a.Now})
	if err != nil {
		hub.Stop()
		return nil, err
	}
	mediaSvc := media.NewService(media.ServiceConfig{
		Publish:   dispatcher.Emit,
		Store:     a.Store,
		Connect:   conns.Connector,
		Generator: media.NewGenerator(media.Config{Tools: media.DetectTools(a.Logger), Logger: a.Logger}),
		Thumbs:    media.NewThumbStore(a.Cfg.DataDir),
		Logger:    a.Logger,
		Now:       a.Now,
	})
	media.RegisterWorkers(q, mediaSvc, a.Store)
	exiftool := embedmeta.DetectExiftool(a.Logger)
	metaSvc := embedmeta.NewService(embedmeta.Config{
		Catalog: a.Store, Connect: conns.Connector, Exiftool: exiftool, Logger: a.Logger, Now: a.Now,
	})
	embedmeta.RegisterWorkers(q, metaSvc)
	queue.AddWorker(q, river.Worker[connections.AbortStaleUploadsArgs](connections.NewAbortStaleUploadsWorker(conns)))
	q.AddPeriodic(connections.AbortStaleUploadsArgs{}.Kind(), connections.StaleUploadCleanupInterval,
		func() river.JobArgs { return connections.AbortStaleUploadsArgs{} })
	scfg := syncrun.Config{
		Store:             a.Store,
		Queue:             q,
		Policy:            a.Policy,
		Connections:       conns,
		Engine:            engine,
		Hub:               hub,
		Messages:          dispatcher,
		Logger:            a.Logger,
		Now:               a.Now,
		SchedulerInterval: a.Cfg.SchedulerInterval,
		LeaseTTL:          a.Cfg.LeaseTTL,
		MaxSyncDuration:   maxSync,
	}
	if opts.Syncs != nil {
		opts.Syncs(&scfg)
	}
	syncs, err := syncrun.New(scfg)
	if err != nil {
		hub.Stop()
		return nil, err
	}
	lib := library.New(library.Config{
		Catalog: a.Store,
		Connect: conns.Connector,
		Jobs:    q,
		TxJobs:  q,
		Meta:    exiftool,
		Publish: dispatcher.Emit,
		Logger:  a.Logger,
		Now:     a.Now,
	})
	library.RegisterWorkers(q, lib)
	lctx, lcancel := context.WithCancel(context.WithoutCancel(ctx))
	var liveSvc *live.Service
	if opts.Work {
		lcfg := live.Config{
			Store: a.Store, Policy: a.Policy, Batches: syncs, Connectors: conns, NodeID: syncs.NodeID(),
			PublicURL: a.Cfg.PublicURL, LeaseTTL: a.Cfg.LeaseTTL, Workers: max(a.Cfg.SyncWorkers, 1), Logger: a.Logger, Now: a.Now,
		}
		if opts.Live != nil {
			opts.Live(&lcfg)
		}
		liveSvc, err = live.New(lcfg)
		if err != nil {
			lcancel()
			hub.Stop()
			return nil, err
		}
	}
	wake := func() {}
	if liveSvc != nil {
		wake = liveSvc.Wake
	}
	events := live.NewReceiver(live.ReceiverConfig{Store: a.Store, Policy: a.Policy, Connectors: conns, Wake: wake, Logger: a.Logger})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		wg.Go(func() { events.Run(lctx) })
		if liveSvc != nil {
			wg.Go(func() {
				if err := liveSvc.Run(lctx); err != nil {
					a.Logger.Warn("live sync stopped", "error", err)
				}
			})
		}
		wg.Wait()
	}()
	if opts.Work {
		// Not the signal's context: a SIGTERM lets running jobs finish
		// (Stop gives them the grace), instead of cancelling them at once.
		if err := q.Start(context.WithoutCancel(ctx)); err != nil {
			lcancel()
			<-done
			hub.Stop()
			return nil, fmt.Errorf("starting job workers: %w", err)
		}
		a.Logger.Info("job workers started", "node", q.NodeID(), "sync_workers", a.Cfg.SyncWorkers,
			"lease_ttl", a.Cfg.LeaseTTL, "scheduler_interval", a.Cfg.SchedulerInterval)
	}
	return &Services{Hub: hub, Conns: conns, Queue: q, Syncs: syncs, Dispatcher: dispatcher, Media: mediaSvc, Library: lib,
		Live: liveSvc, Events: events, work: opts.Work, stop: lcancel, done: done}, nil
}

// Stop stops the job workers (letting running jobs finish until ctx ends)
// and the hub.
func (s *Services) Stop(ctx context.Context) error {
	// Live watching stops first: batches in flight finish, the accounts are
	// given up for another process at once.
	s.stop()
	select {
	case <-s.done:
	case <-ctx.Done():
	}
	var err error
	if s.work {
		err = s.Queue.Stop(ctx)
	}
	s.Hub.Stop()
	return err
}
