package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

// A folder of 60 tagged objects moved in a bucket the way `aws s3 mv
// --recursive` or a console move does it (copy, then delete, per object,
// each event posted as S3 sends it): the objects whose copy and delete
// fell into different live batches lose their tags (new assets; the tags
// stay on tombstones), and the next full sync cannot repair it.
func TestLiveS3FolderMoveKeepsTags(t *testing.T) {
	e := startLive(t, "sqlite")
	s3 := s3fake.Start()
	t.Cleanup(s3.Close)
	_ = s3.CreateBucket("media")
	const n = 60
	for i := 0; i < n; i++ {
		_ = s3.PutObject("media", fmt.Sprintf("team/old/%02d.jpg", i), []byte(fmt.Sprint("content ", i)))
	}
	c, acct, _ := e.signup("mv@example.com", "Mover")
	r := c.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "s3", "bucket": "media", "prefix": "team/",
		"endpoint": s3.URL, "path_style": true, "access_key_id": "k", "secret_access_key": "s"})
	e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
	url := c.Must(200, "GET", "/api/v1/storage", nil).Obj("storage")["events_url"].(string)
	e.waitCaughtUp(c)
	ctx := context.Background()
	tags := []string{"keep"}
	for i := 0; i < n; i++ {
		a, _ := e.asset(acct, fmt.Sprintf("old/%02d.jpg", i))
		if _, err := e.a.Store.UpdateAssetMetadata(ctx, acct, a.ID, catalog.MetadataUpdate{Tags: &tags}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		from, to := fmt.Sprintf("team/old/%02d.jpg", i), fmt.Sprintf("team/new/%02d.jpg", i)
		req, _ := http.NewRequest("PUT", s3.URL+"/media/"+to, nil)
		req.Header.Set("x-amz-copy-source", "/media/"+from)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		postEvent(t, url, s3Event("media", "ObjectCreated:Copy", to), nil)
		time.Sleep(25 * time.Millisecond)
		s3del(t, s3, "media", from)
		postEvent(t, url, s3Event("media", "ObjectRemoved:Delete", from), nil)
		time.Sleep(25 * time.Millisecond)
	}
	waitFor(t, "the move applied", func() bool {
		for i := 0; i < n; i++ {
			if _, ok := e.asset(acct, fmt.Sprintf("old/%02d.jpg", i)); ok {
				return false
			}
			if _, ok := e.asset(acct, fmt.Sprintf("new/%02d.jpg", i)); !ok {
				return false
			}
		}
		return true
	})
	lost := 0
	for i := 0; i < n; i++ {
		a, _ := e.asset(acct, fmt.Sprintf("new/%02d.jpg", i))
		if len(a.Tags) == 0 {
			lost++
		}
	}
	runs, _ := e.a.Store.ListSyncRuns(ctx, acct, 10)
	for _, r := range runs {
		t.Logf("run %d %s %s %+v", r.ID, r.Trigger, r.State, r.Counts)
	}
	rr := c.Must(202, "POST", "/api/v1/sync", nil)
	run := e.waitRun(acct, apitest.Num(rr.Obj("run")["id"]))
	t.Logf("full sync after: %+v", run.Counts)
	if lost > 0 {
		t.Errorf("%d of %d moved objects lost their tags", lost, n)
	}
}
