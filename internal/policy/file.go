package policy

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// The policy file (SHELF_POLICY_FILE) overrides parts of the built-in table.
// Every key is optional; what the file leaves out keeps its default.
//
//	s3_auto_sync = true      # enable automatic sync for S3 (off by default)
//	live_reconcile  = "24h"  # live accounts are still synced in full this often
//	drive_live_poll = "15s"  # a live Drive account's changes feed is read this often
//	local_live_poll = "30s"  # a live local folder that cannot be watched is re-listed this often
//
//	[plans.free]
//	drive_auto   = "none"    # "none", a duration ("30m", "2s") or "live"
//	drive_manual = "60m"     # "any" (no cooldown) or a duration
//	s3_auto      = "1h"      # used only when s3_auto_sync is true
//	s3_manual    = "60m"
//	local_auto   = "none"    # local folders follow drive_* unless set
//	local_manual = "60m"
//
// Durations use Go syntax (time.ParseDuration); short ones are how tests run
// the scheduler at speed.
type fileFormat struct {
	S3AutoSync    *bool               `toml:"s3_auto_sync"`
	LiveReconcile *string             `toml:"live_reconcile"`
	DriveLivePoll *string             `toml:"drive_live_poll"`
	LocalLivePoll *string             `toml:"local_live_poll"`
	Plans         map[string]filePlan `toml:"plans"`
}

type filePlan struct {
	DriveAuto   *string `toml:"drive_auto"`
	DriveManual *string `toml:"drive_manual"`
	S3Auto      *string `toml:"s3_auto"`
	S3Manual    *string `toml:"s3_manual"`
	LocalAuto   *string `toml:"local_auto"`
	LocalManual *string `toml:"local_manual"`
}

// Load returns the built-in table with the overrides of the TOML file at
// path applied; an empty path means the built-in table alone.
func Load(path string) (*Policy, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the policy file %s (SHELF_POLICY_FILE): %w", path, err)
	}
	p, err := Parse(string(data))
	if err != nil {
		return nil, fmt.Errorf("policy file %s (SHELF_POLICY_FILE): %w", path, err)
	}
	return p, nil
}

// Parse returns the built-in table with the overrides of a policy file's
// TOML text applied. Unknown keys and plans are errors, so a typo does not
// silently leave the default in force.
func Parse(text string) (*Policy, error) {
	var f fileFormat
	md, err := toml.Decode(text, &f)
	if err != nil {
		return nil, fmt.Errorf("parsing TOML: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("unknown keys %s; see the policy file format in the README", strings.Join(keys, ", "))
	}

	p := Default()
	if f.S3AutoSync != nil {
		p.s3AutoSync = *f.S3AutoSync
	}
	for _, g := range []struct {
		key    string
		val    *string
		target *time.Duration
		least  time.Duration
	}{
		{"live_reconcile", f.LiveReconcile, &p.liveReconcile, time.Minute},
		{"drive_live_poll", f.DriveLivePoll, &p.driveLivePoll, time.Second},
		{"local_live_poll", f.LocalLivePoll, &p.localLivePoll, time.Second},
	} {
		if g.val == nil {
			continue
		}
		d, err := time.ParseDuration(strings.TrimSpace(*g.val))
		if err != nil || d < g.least {
			return nil, fmt.Errorf("%s: %q: want a duration of at least %s", g.key, *g.val, g.least)
		}
		if g.key == "live_reconcile" && d > 24*time.Hour {
			return nil, fmt.Errorf("live_reconcile: %q: live accounts are reconciled at least daily; give 24h or less", *g.val)
		}
		*g.target = d
	}

	names := make([]string, 0, len(f.Plans))
	for name := range f.Plans {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !KnownPlan(name) {
			return nil, fmt.Errorf("unknown plan %q; plans are %s", name, strings.Join(planOrder, ", "))
		}
		row := p.plans[name]
		fp := f.Plans[name]
		localFollowsDrive := row.Local == row.Drive
		fields := []struct {
			key    string
			val    *string
			target *time.Duration
			live   *bool // auto cells: "live"
		}{
			{"drive_auto", fp.DriveAuto, &row.Drive.AutoInterval, &row.Drive.Live},
			{"drive_manual", fp.DriveManual, &row.Drive.ManualCooldown, nil},
			{"s3_auto", fp.S3Auto, &row.S3.AutoInterval, &row.S3.Live},
			{"s3_manual", fp.S3Manual, &row.S3.ManualCooldown, nil},
		}
		for _, fd := range fields {
			if fd.val == nil {
				continue
			}
			if fd.live != nil {
				*fd.live = isLive(*fd.val)
				if *fd.live {
					continue
				}
			}
			d, err := parseLimit(*fd.val, fd.live != nil)
			if err != nil {
				return nil, fmt.Errorf("plans.%s.%s: %w", name, fd.key, err)
			}
			*fd.target = d
		}
		// S3 auto-sync follows the Drive interval unless set on its own.
		// (A live Drive column makes S3 live only where S3 auto-sync is
		// on; s3_auto = "live" does on its own.)
		if fp.S3Auto == nil && fp.DriveAuto != nil {
			row.S3.AutoInterval, row.S3.Live = row.Drive.AutoInterval, row.Drive.Live && p.s3AutoSync
		}
		if localFollowsDrive {
			row.Local = row.Drive
		}
		if fp.LocalAuto != nil {
			row.Local.Live = isLive(*fp.LocalAuto)
			if !row.Local.Live {
				d, err := parseLimit(*fp.LocalAuto, true)
				if err != nil {
					return nil, fmt.Errorf("plans.%s.local_auto: %w", name, err)
				}
				row.Local.AutoInterval = d
			}
		}
		if fp.LocalManual != nil {
			d, err := parseLimit(*fp.LocalManual, false)
			if err != nil {
				return nil, fmt.Errorf("plans.%s.local_manual: %w", name, err)
			}
			row.Local.ManualCooldown = d
		}
		p.plans[name] = row
	}
	return p, nil
}

var errBadLimit = errors.New("want a duration such as \"15m\"")

// isLive reports whether an auto cell says "live".
func isLive(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "live") }

// parseLimit reads one table cell: "none" (auto) or "any" (manual) mean 0.
func parseLimit(s string, auto bool) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	switch {
	case auto && (s == "none" || s == "off" || s == ""):
		return 0, nil
	case !auto && (s == "any" || s == "any time" || s == "none" || s == ""):
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		if auto {
			return 0, fmt.Errorf("%q: %w, \"live\" or \"none\"", s, errBadLimit)
		}
		return 0, fmt.Errorf("%q: %w, or \"any\"", s, errBadLimit)
	}
	return d, nil
}
