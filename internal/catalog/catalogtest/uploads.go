package catalogtest

import (
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// testMultipartUploads: an upload is stale once it has not been renewed
// for a while, whatever its account; renewing keeps it fresh, forgetting
// removes it, and the listing pages by id.
func testMultipartUploads(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	for i, u := range []catalog.MultipartUpload{
		{AccountID: f.accA.ID, Bucket: "b", Key: "lib/a.bin", UploadID: "up-a"},
		{AccountID: f.accB.ID, Bucket: "c", Key: "b.bin", UploadID: "up-b"},
		{AccountID: f.accA.ID, Bucket: "b", Key: "lib/c.bin", UploadID: "up-c"},
	} {
		must(t, s.RecordMultipartUpload(ctx, u, now.Add(time.Duration(i)*time.Minute)), "RecordMultipartUpload %s", u.UploadID)
	}
	ids := func(us []catalog.MultipartUpload) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.UploadID)
		}
		return out
	}
	stale, err := s.StaleMultipartUploads(ctx, now.Add(90*time.Second), 0, 10)
	must(t, err, "StaleMultipartUploads")
	if got := ids(stale); len(got) != 2 || got[0] != "up-a" || got[1] != "up-b" {
		t.Fatalf("uploads not renewed for 90 s: %q, want up-a and up-b", got)
	}
	if u := stale[1]; u.AccountID != f.accB.ID || u.Bucket != "c" || u.Key != "b.bin" || !u.StartedAt.Equal(now.Add(time.Minute)) || !u.RenewedAt.Equal(u.StartedAt) {
		t.Fatalf("stale upload read back as %+v", u)
	}
	page, err := s.StaleMultipartUploads(ctx, now.Add(time.Hour), stale[0].ID, 1)
	must(t, err, "StaleMultipartUploads after the first")
	if got := ids(page); len(got) != 1 || got[0] != "up-b" {
		t.Fatalf("the page after up-a: %q, want up-b", got)
	}

	must(t, s.RenewMultipartUpload(ctx, f.accA.ID, "up-a", now.Add(time.Hour)), "RenewMultipartUpload")
	wantErr(t, s.RenewMultipartUpload(ctx, f.accB.ID, "up-a", now.Add(time.Hour)), catalog.ErrNotFound, "renewing another account's upload")
	must(t, s.ForgetMultipartUpload(ctx, f.accB.ID, "up-b"), "ForgetMultipartUpload")
	must(t, s.ForgetMultipartUpload(ctx, f.accB.ID, "up-b"), "forgetting a forgotten upload")
	wantErr(t, s.RenewMultipartUpload(ctx, f.accB.ID, "up-b", now.Add(time.Hour)), catalog.ErrNotFound, "renewing a forgotten upload")
	stale, err = s.StaleMultipartUploads(ctx, now.Add(30*time.Minute), 0, 10)
	must(t, err, "StaleMultipartUploads")
	if got := ids(stale); len(got) != 1 || got[0] != "up-c" {
		t.Fatalf("stale after renewing up-a and forgetting up-b: %q, want up-c", got)
	}
}
