package main

import (
	"context"
	"fmt"
	"time"

	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

// idleMethods are the Drive calls the idle table shows on their own.
var idleMethods = []string{"changes.list", "changes.watch", "channels.stop", "files.list", "files.get"}

// idleTable leaves -idle-accounts live Drive accounts idle for -idle, once
// with push channels and once polling, and counts the fake Drive's calls.
func idleTable(ctx context.Context, o options) error {
	header := []string{"mode", "accounts", "idle s", "drive_live_poll"}
	header = append(header, idleMethods...)
	header = append(header, "other", "calls / account / hour", "goal", "goal")
	t := newTable(fmt.Sprintf("Drive calls of idle live accounts (%s idle, extrapolated to an hour)", o.idleFor), header...)
	goal := int(time.Hour / o.drivePoll)
	for _, push := range []bool{true, false} {
		fmt.Fprintf(logOut, "idle: push=%v, %d accounts for %s…\n", push, o.idleAccounts, o.idleFor)
		fake := drivefake.NewServer(drivefake.Options{RequireAuth: true})
		fake.AddOAuthClient(oauthClientID, oauthClientSecret)
		sh, err := startShelf(ctx, o.server(push, fake, fmt.Sprintf("drive_live_poll = %q", o.drivePoll)))
		if err != nil {
			fake.Close()
			return err
		}
		// Every folder is made before any account connects: the fake's
		// accounts share one Drive, so making one later would be a change
		// in the others' feeds.
		var folders []driveFolder
		for i := range o.idleAccounts {
			f, err := makeDriveFolder(fake, fmt.Sprintf("idle%d", i))
			if err != nil {
				sh.close()
				fake.Close()
				return err
			}
			folders = append(folders, f)
		}
		mode := ""
		for _, f := range folders {
			r, err := f.connect(ctx, sh)
			if err != nil {
				sh.close()
				fake.Close()
				return err
			}
			mode = r.mode
		}
		// Let the catch-up batches, channel openings and each watcher's
		// first poll (which also fetches a token and the folder once)
		// pass: the window measures the steady cost.
		time.Sleep(o.drivePoll + 2*time.Second)
		fake.ResetCalls()
		time.Sleep(o.idleFor)
		row := []any{mode, o.idleAccounts, fmt.Sprintf("%.0f", o.idleFor.Seconds()), o.drivePoll}
		named := 0
		for _, m := range idleMethods {
			n := fake.Calls(m)
			named += n
			row = append(row, n)
		}
		total := fake.TotalCalls()
		perHour := float64(total) / float64(o.idleAccounts) * float64(time.Hour) / float64(o.idleFor)
		row = append(row, total-named, fmt.Sprintf("%.0f", perHour), fmt.Sprintf("≤ %d", goal), yesNo(perHour <= float64(goal)))
		t.add(row...)
		if tok := fake.Calls("oauth.token"); tok > 0 {
			t.note("%s: %d oauth.token calls besides (not Drive API calls)", mode, tok)
		}
		sh.close()
		fake.Close()
	}
	t.note("Counts are the fake Drive's calls during the idle window for all accounts together; calls / account / hour = all Drive API calls ÷ accounts × (1 h ÷ idle time). A %s window holds %.0f poll intervals, so the tick phase makes the extrapolation accurate to about one call per account per window.", o.idleFor, o.idleFor.Seconds()/o.drivePoll.Seconds())
	t.print()
	return nil
}
