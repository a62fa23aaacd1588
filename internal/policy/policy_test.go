package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
)

const (
	minute  = time.Minute
	none    = time.Duration(0)
	anyTime = time.Duration(0)
)

// TestDefaultTable checks every plan × storage kind of SPEC §3.1.

// The storage kinds, as the policy takes them.
const (
	KindGDrive = string(storage.KindGDrive)
	KindS3     = string(storage.KindS3)
	KindLocal  = string(storage.KindLocal)
)

func TestDefaultTable(t *testing.T) {
	t.Parallel()
	type want struct{ auto, manual time.Duration }
	table := map[string]map[string]want{
		PlanFree:       {KindGDrive: {none, 60 * minute}, KindLocal: {none, 60 * minute}, KindS3: {none, 60 * minute}},
		PlanPayg:       {KindGDrive: {none, 15 * minute}, KindLocal: {none, 15 * minute}, KindS3: {none, 15 * minute}},
		PlanMicro:      {KindGDrive: {30 * minute, anyTime}, KindLocal: {30 * minute, anyTime}, KindS3: {none, anyTime}},
		PlanSmall:      {KindGDrive: {15 * minute, anyTime}, KindLocal: {15 * minute, anyTime}, KindS3: {none, anyTime}},
		PlanMedium:     {KindGDrive: {5 * minute, anyTime}, KindLocal: {5 * minute, anyTime}, KindS3: {none, anyTime}},
		PlanEnterprise: {KindGDrive: {5 * minute, anyTime}, KindLocal: {5 * minute, anyTime}, KindS3: {none, anyTime}},
		PlanTrial:      {KindGDrive: {5 * minute, anyTime}, KindLocal: {5 * minute, anyTime}, KindS3: {none, anyTime}},
	}
	p := Default()
	if len(table) != len(Plans()) {
		t.Fatalf("table covers %d plans, Shelf has %d", len(table), len(Plans()))
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, plan := range Plans() {
		for _, kind := range []string{KindGDrive, KindS3, KindLocal} {
			w := table[plan][kind]
			t.Run(plan+"/"+kind, func(t *testing.T) {
				if got := p.AutoInterval(plan, kind); got != w.auto {
					t.Errorf("AutoInterval = %v, want %v", got, w.auto)
				}
				next := p.NextAutoSync(plan, kind, now)
				switch {
				case w.auto == 0 && next != nil:
					t.Errorf("NextAutoSync = %v, want none", next)
				case w.auto != 0 && (next == nil || !next.Equal(now.Add(w.auto))):
					t.Errorf("NextAutoSync = %v, want %v", next, now.Add(w.auto))
				}

				// The first manual sync is always allowed.
				if ok, at := p.ManualAllowed(plan, kind, nil, now); !ok || !at.IsZero() {
					t.Errorf("first manual sync: allowed=%v at=%v, want allowed at once", ok, at)
				}
				// One second after a manual sync.
				last := now.Add(-time.Second)
				ok, at := p.ManualAllowed(plan, kind, &last, now)
				if w.manual == 0 {
					if !ok {
						t.Errorf("manual sync right after another refused, want allowed any time")
					}
					return
				}
				if ok {
					t.Errorf("manual sync 1s after another allowed, want cooldown %v", w.manual)
				}
				if !at.Equal(last.Add(w.manual)) {
					t.Errorf("available at %v, want %v", at, last.Add(w.manual))
				}
				// At the exact end of the cooldown it is allowed.
				if ok, _ := p.ManualAllowed(plan, kind, &last, last.Add(w.manual)); !ok {
					t.Errorf("manual sync at the end of the cooldown refused")
				}
			})
		}
	}
}

func TestUnknownPlanIsRestrictedLikeFree(t *testing.T) {
	t.Parallel()
	p := Default()
	if got := p.Limits("gold", KindGDrive); got != p.Limits(PlanFree, KindGDrive) {
		t.Errorf("unknown plan limits = %+v, want the free plan's", got)
	}
}

func TestPlanAllowingManualNow(t *testing.T) {
	t.Parallel()
	p := Default()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		ago  time.Duration
		want string
	}{
		{"5 min after: payg still waits, micro allows", 5 * minute, PlanMicro},
		{"20 min after: payg allows", 20 * minute, PlanPayg},
		{"2 h after: free allows", 120 * minute, PlanFree},
	}
	for _, c := range cases {
		last := now.Add(-c.ago)
		if got := p.PlanAllowingManualNow(KindGDrive, &last, now); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	if got := p.PlanAllowingManualNow(KindS3, nil, now); got != PlanFree {
		t.Errorf("no manual sync yet: got %q, want free", got)
	}
}

func TestPolicyFileOverrides(t *testing.T) {
	t.Parallel()
	p, err := Parse(`
s3_auto_sync = true

[plans.free]
drive_auto = "2s"
drive_manual = "any"

[plans.micro]
s3_auto = "10m"

[plans.payg]
local_manual = "1m"
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.AutoInterval(PlanFree, KindGDrive); got != 2*time.Second {
		t.Errorf("free drive auto = %v, want 2s", got)
	}
	if got := p.AutoInterval(PlanFree, KindLocal); got != 2*time.Second {
		t.Errorf("free local auto = %v, want 2s (follows drive)", got)
	}
	if got := p.AutoInterval(PlanFree, KindS3); got != 2*time.Second {
		t.Errorf("free S3 auto = %v, want 2s (S3 enabled, follows drive)", got)
	}
	if got := p.Limits(PlanFree, KindGDrive).ManualCooldown; got != 0 {
		t.Errorf("free manual cooldown = %v, want any time", got)
	}
	if got := p.AutoInterval(PlanMicro, KindS3); got != 10*time.Minute {
		t.Errorf("micro S3 auto = %v, want 10m", got)
	}
	if got := p.AutoInterval(PlanSmall, KindS3); got != 15*time.Minute {
		t.Errorf("small S3 auto = %v, want 15m (drive column once enabled)", got)
	}
	if got := p.Limits(PlanPayg, KindLocal).ManualCooldown; got != time.Minute {
		t.Errorf("payg local manual = %v, want 1m", got)
	}
	if got := p.Limits(PlanPayg, KindGDrive).ManualCooldown; got != 15*time.Minute {
		t.Errorf("payg drive manual = %v, want the default 15m", got)
	}
}

func TestS3AutoSyncOffUnlessEnabled(t *testing.T) {
	t.Parallel()
	p, err := Parse("[plans.micro]\ns3_auto = \"1m\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.AutoInterval(PlanMicro, KindS3); got != 0 {
		t.Errorf("S3 auto = %v without s3_auto_sync, want none", got)
	}
}

func TestPolicyFileErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"unknown plan":                        "[plans.gold]\ndrive_auto = \"5m\"\n",
		"unknown key":                         "[plans.free]\ndrive_autosync = \"5m\"\n",
		"bad duration":                        "[plans.free]\ndrive_manual = \"soon\"\n",
		"negative":                            "[plans.free]\ndrive_auto = \"-5m\"\n",
		"trial length (a setting of its own)": "trial_length = \"48h\"\n",
		"invalid toml":                        "[plans.free\n",
		"top-level key":                       "interval = 5\n",
	}
	for name, text := range cases {
		if _, err := Parse(text); err == nil {
			t.Errorf("%s: Parse accepted %q", name, text)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	p, err := Load("")
	if err != nil || p.AutoInterval(PlanMedium, KindGDrive) != 5*time.Minute {
		t.Fatalf("Load(\"\") = %v, %v; want the built-in table", p, err)
	}
	path := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(path, []byte("[plans.medium]\ndrive_auto = \"3s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.AutoInterval(PlanMedium, KindGDrive); got != 3*time.Second {
		t.Errorf("medium auto = %v, want 3s", got)
	}
	_, err = Load(filepath.Join(t.TempDir(), "missing.toml"))
	if err == nil || !strings.Contains(err.Error(), "SHELF_POLICY_FILE") {
		t.Errorf("missing file error = %v, want one naming SHELF_POLICY_FILE", err)
	}
}

func TestLivePlans(t *testing.T) {
	p, err := Parse(`
live_reconcile = "6h"
drive_live_poll = "20s"
[plans.medium]
drive_auto = "live"
[plans.small]
s3_auto = "LIVE"
local_auto = "10m"
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		plan, kind string
		live       bool
		auto       time.Duration
	}{
		{"medium", "gdrive", true, 6 * time.Hour}, // live: the reconciliation interval
		{"medium", "s3", false, 0},                // S3 follows a live Drive only with s3_auto_sync
		{"medium", "local", true, 6 * time.Hour},  // local follows Drive
		{"small", "s3", true, 6 * time.Hour},
		{"small", "local", false, 10 * time.Minute},
		{"small", "gdrive", false, 15 * time.Minute},
		{"free", "gdrive", false, 0},
	} {
		l := p.Limits(tc.plan, tc.kind)
		if l.Live != tc.live || l.AutoInterval != tc.auto {
			t.Errorf("%s/%s: live %v every %s, want %v every %s", tc.plan, tc.kind, l.Live, l.AutoInterval, tc.live, tc.auto)
		}
	}
	if p.DriveLivePoll() != 20*time.Second || p.LocalLivePoll() != DefaultLocalLivePoll || Default().Live("trial", "gdrive") {
		t.Fatal("live poll settings or the built-in table are wrong")
	}
	for _, bad := range []string{`live_reconcile = "48h"`, `drive_live_poll = "10ms"`, "[plans.free]\ndrive_auto = \"lively\""} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if !Default().WithLive("free").Live("free", "local") || Default().WithLive("free").Live("micro", "local") {
		t.Fatal("WithLive")
	}
}
