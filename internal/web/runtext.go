package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
)

// The words a page shows for a run. The page's script (app.js) says the
// same when it updates them live: keep both in step.

// thousands renders n with thousands separators: 100000 as "100,000".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// stateLabel is a run's state in plain words.
func stateLabel(state string) string {
	switch state {
	case catalog.RunQueued:
		return "Queued"
	case catalog.RunRunning:
		return "Running"
	case catalog.RunSucceeded:
		return "Succeeded"
	case catalog.RunFailed:
		return "Failed"
	case catalog.RunNeedsConfirmation:
		return "Stopped: waiting for an admin to confirm removals"
	}
	return state
}

// triggerLabel says what started a run. A live run is the sum of one
// hour's live batches (SPEC §3.4).
func triggerLabel(trigger string) string {
	switch trigger {
	case catalog.TriggerManual:
		return "Manual"
	case catalog.TriggerAuto:
		return "Automatic"
	case catalog.TriggerInitial:
		return "On connect"
	case catalog.TriggerLive:
		return "Live changes (hourly total)"
	case catalog.TriggerCLI:
		return "Command line"
	}
	return trigger
}

// phaseLabel is a run's phase in plain words.
func phaseLabel(phase string) string {
	switch phase {
	case notify.PhaseQueued:
		return "Waiting to start"
	case notify.PhaseStarting:
		return "Starting"
	case catalog.PhaseListing:
		return "Listing the storage"
	case catalog.PhaseApplying:
		return "Applying changes"
	case notify.PhaseDone:
		return "Done"
	}
	return "Syncing"
}

// timeLeft says how long a phase still takes: "about 35 s left".
func timeLeft(secs int64) string {
	if secs < 60 {
		return fmt.Sprintf("about %d s left", secs)
	}
	mins := (secs + 59) / 60
	if mins < 60 {
		return fmt.Sprintf("about %d min left", mins)
	}
	return fmt.Sprintf("about %d h %d min left", mins/60, mins%60)
}

// countsText is a run's counters: "12,345 seen · 40 added · …".
func countsText(c catalog.Counts) string { return countsAfter(thousands(c.Seen)+" seen", c) }

// countsAfter is countsText with the "seen" part given.
func countsAfter(seen string, c catalog.Counts) string {
	t := fmt.Sprintf("%s · %s added · %s updated · %s moved · %s removed",
		seen, thousands(c.Added), thousands(c.Updated), thousands(c.Moved), thousands(c.Removed))
	if c.Errors > 0 {
		t += " · " + thousands(c.Errors) + " errors"
	}
	return t
}

// progressText is a running sync's progress as the banner shows it: its
// phase, how far it got (against the estimate, as "about"), its rate and
// the time left.
func progressText(v notify.RunView) string {
	var parts []string
	if v.Phase == catalog.PhaseApplying && v.ApplyTotal != nil {
		parts = append(parts, fmt.Sprintf("%s of about %s changes", thousands(v.Counts.Changes()), thousands(*v.ApplyTotal)))
	}
	seen := thousands(v.Counts.Seen) + " seen"
	if v.Phase == catalog.PhaseListing && v.Estimate != nil {
		seen += " of about " + thousands(*v.Estimate)
	}
	parts = append(parts, countsAfter(seen, v.Counts))
	if v.RatePerSecond != nil {
		parts = append(parts, thousands(int64(math.Round(*v.RatePerSecond)))+" a second")
	}
	if v.ETASeconds != nil {
		parts = append(parts, timeLeft(*v.ETASeconds))
	}
	return phaseLabel(v.Phase) + ": " + strings.Join(parts, " · ")
}
