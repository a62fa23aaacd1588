package policy

import "testing"

// drive_auto = "live" alone (s3_auto_sync off, s3_auto not set) makes the
// plan's S3 accounts live, with a daily S3 full listing, although S3
// auto-sync is off by default and the operator never asked for it.
func TestDriveLiveNeedsS3AutoSyncForS3(t *testing.T) {
	p, err := Parse("[plans.small]\ndrive_auto = \"live\"\n")
	if err != nil {
		t.Fatal(err)
	}
	l := p.Limits(PlanSmall, "s3")
	if l.Live || l.AutoInterval != 0 {
		t.Errorf("S3 on a plan whose drive_auto is live: live=%v auto=%v", l.Live, l.AutoInterval)
	}
	p2, _ := Parse("[plans.small]\ndrive_auto = \"10m\"\n")
	t.Logf("for comparison, drive_auto = 10m: S3 %+v", p2.Limits(PlanSmall, "s3"))
}
