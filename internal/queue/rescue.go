package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// ListByAccount lists the jobs of a kind whose arguments carry this
// "account_id", in the given states.
func (q *Queue) ListByAccount(ctx context.Context, kind string, accountID int64, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	p := river.NewJobListParams().Kinds(kind).States(states...).First(1000)
	if q.cfg.Store.Dialect() == catalog.DialectPostgres {
		p = p.Where("args->>'account_id' = @account_id", river.NamedArgs{"account_id": strconv.FormatInt(accountID, 10)})
	} else {
		p = p.Where("args ->> '$.account_id' = @account_id", river.NamedArgs{"account_id": accountID})
	}
	jobs, err := q.List(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("listing the %s jobs of account %d: %w", kind, accountID, err)
	}
	return jobs, nil
}

// Rescue moves running jobs whose worker is gone to retryable now (or
// discards those out of attempts), as River's own rescuer does after
// RescueStuckJobsAfter, and reports whether any will be retried.
func (q *Queue) Rescue(ctx context.Context, jobs []*rivertype.JobRow, reason string) (retried bool, err error) {
	if len(jobs) == 0 {
		return false, nil
	}
	// Only jobs still running: one that finished since it was listed must
	// not come back (River's rescue updates by id alone).
	running, err := q.List(ctx, river.NewJobListParams().States(rivertype.JobStateRunning).First(10000))
	if err != nil {
		return false, err
	}
	still := make(map[int64]bool, len(running))
	for _, j := range running {
		still[j.ID] = true
	}
	jobs = slices.DeleteFunc(slices.Clone(jobs), func(j *rivertype.JobRow) bool { return !still[j.ID] })
	if len(jobs) == 0 {
		return false, nil
	}
	// River keeps its own times on the wall clock, whatever clock the
	// catalog runs on.
	wall := time.Now().UTC()
	params := &riverdriver.JobRescueManyParams{StuckHorizon: wall.Add(time.Second)}
	for _, j := range jobs {
		msg, err := json.Marshal(rivertype.AttemptError{At: wall, Attempt: j.Attempt, Error: reason})
		if err != nil {
			return false, fmt.Errorf("encoding the rescue note: %w", err)
		}
		params.ID = append(params.ID, j.ID)
		params.Error = append(params.Error, msg)
		params.ScheduledAt = append(params.ScheduledAt, wall)
		if j.Attempt >= j.MaxAttempts {
			params.State = append(params.State, string(rivertype.JobStateDiscarded))
			params.FinalizedAt = append(params.FinalizedAt, &wall)
		} else {
			params.State = append(params.State, string(rivertype.JobStateRetryable))
			params.FinalizedAt = append(params.FinalizedAt, nil)
			retried = true
		}
	}
	if _, err := q.exec.JobRescueMany(ctx, params); err != nil {
		return false, fmt.Errorf("making stuck jobs retryable: %w", err)
	}
	return retried, nil
}
