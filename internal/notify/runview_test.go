package notify_test

import (
	"encoding/json"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
)

// TestRunViewProgress: the run view's phase, rate and time left follow the
// run: a time left only where the phase's end is known and the rate too,
// none of it once the run ended; unknowns are null, not absent.
func TestRunViewProgress(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		name      string
		run       catalog.SyncRun
		phase     string
		rate, eta any
	}{
		{"queued", catalog.SyncRun{State: catalog.RunQueued}, "queued", nil, nil},
		{"running, engine not started", catalog.SyncRun{State: catalog.RunRunning}, "starting", nil, nil},
		{"listing, no estimate", catalog.SyncRun{State: catalog.RunRunning, Phase: catalog.PhaseListing,
			Counts: catalog.Counts{Seen: 5000}, RatePerSecond: f(2500)}, "listing", 2500.0, nil},
		{"listing, estimate and rate", catalog.SyncRun{State: catalog.RunRunning, Phase: catalog.PhaseListing,
			Counts: catalog.Counts{Seen: 12345}, TotalEstimate: n(100000), RatePerSecond: f(2500.04)}, "listing", 2500.0, 36.0},
		{"listing, no rate yet", catalog.SyncRun{State: catalog.RunRunning, Phase: catalog.PhaseListing,
			TotalEstimate: n(100000)}, "listing", nil, nil},
		{"listing, stalled", catalog.SyncRun{State: catalog.RunRunning, Phase: catalog.PhaseListing,
			Counts: catalog.Counts{Seen: 10}, TotalEstimate: n(100), RatePerSecond: f(0)}, "listing", 0.0, nil},
		{"applying", catalog.SyncRun{State: catalog.RunRunning, Phase: catalog.PhaseApplying,
			Counts: catalog.Counts{Seen: 100000, Added: 4000, Updated: 1000}, ApplyTotal: n(20000), RatePerSecond: f(1000)}, "applying", 1000.0, 15.0},
		{"finished", catalog.SyncRun{State: catalog.RunSucceeded, Phase: catalog.PhaseApplying,
			TotalEstimate: n(100), RatePerSecond: f(10)}, "done", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, err := json.Marshal(notify.ViewRun(c.run))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"estimate", "rate_per_second", "eta_seconds", "apply_total"} {
				if _, ok := got[k]; !ok {
					t.Errorf("%s is absent: %s", k, data)
				}
			}
			if got["phase"] != c.phase || got["rate_per_second"] != c.rate || got["eta_seconds"] != c.eta {
				t.Errorf("phase %v rate %v eta %v; want %v %v %v (%s)", got["phase"], got["rate_per_second"], got["eta_seconds"], c.phase, c.rate, c.eta, data)
			}
		})
	}
}
