package syncrun

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/policy"
)

// TestLiveEventsStayInTheirAccount: syncs of accounts A and B run side by
// side; A's subscriber sees A's started, progress and completed events with
// the final counts, and never one of B's (on PostgreSQL through NOTIFY).
func TestLiveEventsStayInTheirAccount(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		svc := b.service(t, true, nil)
		ctx := context.Background()
		a := b.account(t, policy.PlanMedium, string(storage.KindLocal))
		other := b.account(t, policy.PlanMedium, string(storage.KindLocal))
		subA := b.hub.Subscribe(a.ID)
		defer subA.Close()
		subB := b.hub.Subscribe(other.ID)
		defer subB.Close()

		runB, _, err := svc.StartManualSync(ctx, other.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		runA, _, err := svc.StartManualSync(ctx, a.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		collect := func(sub *notify.Subscription, accountID, runID int64) []string {
			t.Helper()
			var types []string
			for {
				select {
				case ev := <-sub.C:
					if ev.AccountID != accountID || ev.RunID != runID {
						t.Fatalf("subscriber of account %d got %+v", accountID, ev)
					}
					types = append(types, ev.Type)
					if ev.Type == notify.SyncCompleted {
						var v RunView
						if err := json.Unmarshal(ev.Data, &v); err != nil {
							t.Fatal(err)
						}
						if v.State != catalog.RunSucceeded || v.Counts.Added != 3 || v.FinishedAt == nil {
							t.Errorf("completed event data = %+v", v)
						}
						return types
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("account %d events so far %v; no sync.completed", accountID, types)
				}
			}
		}
		gotA := collect(subA, a.ID, runA.ID)
		gotB := collect(subB, other.ID, runB.ID)
		for name, got := range map[string][]string{"A": gotA, "B": gotB} {
			if len(got) < 2 || got[0] != notify.SyncStarted {
				t.Errorf("account %s events = %v, want sync.started first", name, got)
			}
		}
	})
}
