package media

import (
	"github.com/riverqueue/river"

	"github.com/shelf-dam/shelf/internal/queue"
)

// Catalog is what the preview workers read beside the Service.
type Catalog interface {
	PendingLister
	AssetIDChecker
}

// RegisterWorkers adds the preview jobs (one asset's thumbnail, an
// account's pending previews, the sweep of removed assets' previews) to
// the queue; they run on Queue.
func RegisterWorkers(q *queue.Queue, svc *Service, cat Catalog) {
	queue.AddWorker(q, river.Worker[ThumbArgs](NewThumbWorker(svc)))
	queue.AddWorker(q, river.Worker[PendingArgs](NewPendingWorker(svc, cat)))
	queue.AddWorker(q, river.Worker[SweepArgs](NewSweepWorker(svc.Thumbs(), cat)))
}
