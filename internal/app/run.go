package app

import (
	"context"
	"log/slog"
	"time"
)

// Run serves HTTP with job workers until ctx ends (shelf serve, shelf demo),
// then stops both gracefully. ready, when set, is called once listening.
func (a *App) Run(ctx context.Context, work bool, ready func(url string, svc *Services)) error {
	ln, err := a.Listen()
	if err != nil {
		return err
	}
	svc, err := a.StartServices(ctx, ServicesOptions{Work: work})
	if err != nil {
		ln.Close()
		return err
	}
	a.Logger.Info("shelf serving", slog.String("url", a.Cfg.PublicURL), slog.String("database", a.Store.Dialect()), slog.Bool("workers", work))
	if ready != nil {
		ready("http://"+ln.Addr().String(), svc)
	}
	serr := a.ServeHTTP(ctx, ln, a.Handler(svc))
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := svc.Stop(stopCtx); err != nil {
		a.Logger.Warn("stopping job workers", slog.Any("err", err))
	}
	return serr
}

// RunWorker works jobs without serving HTTP until ctx ends (shelf worker).
func (a *App) RunWorker(ctx context.Context) error {
	svc, err := a.StartServices(ctx, ServicesOptions{Work: true})
	if err != nil {
		return err
	}
	a.Logger.Info("shelf worker running", slog.String("database", a.Store.Dialect()), slog.String("node", svc.Syncs.NodeID()))
	<-ctx.Done()
	a.Logger.Info("worker stopping: letting running jobs finish", slog.Duration("grace", shutdownGrace))
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace+10*time.Second)
	defer cancel()
	return svc.Stop(stopCtx)
}
