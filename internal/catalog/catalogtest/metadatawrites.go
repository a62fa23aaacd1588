package catalogtest

import (
	"context"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// testMetadataWriteCounts: a background write-back's written and failed
// counts follow each file's result, retries and changes of result
// included, and a file outside the write is refused.
func testMetadataWriteCounts(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	ctx, s := f.ctx, f.store
	a := f.mkAsset(t, f.accA.ID, nil, "a.jpg", 1, f.now, "image/jpeg")
	b := f.mkAsset(t, f.accA.ID, nil, "b.jpg", 1, f.now, "image/jpeg")
	c := f.mkAsset(t, f.accA.ID, nil, "c.jpg", 1, f.now, "image/jpeg")
	other := f.mkAsset(t, f.accA.ID, nil, "d.jpg", 1, f.now, "image/jpeg")
	w, err := s.CreateMetadataWrite(ctx, f.accA.ID, nil, []int64{a.ID, b.ID, c.ID}, f.now,
		func(context.Context, *catalog.QueueTx, catalog.MetadataWrite) error { return nil })
	must(t, err, "CreateMetadataWrite")
	set := func(id int64, state, reason string) {
		t.Helper()
		must(t, s.SetMetadataWriteItem(ctx, w.ID, id, state, reason, f.now), "SetMetadataWriteItem %d %s", id, state)
	}
	counts := func(written, failed int64) {
		t.Helper()
		got, err := s.GetMetadataWrite(ctx, f.accA.ID, w.ID)
		must(t, err, "GetMetadataWrite")
		if got.Written != written || got.Failed != failed || got.State != "running" {
			t.Errorf("counts %d written, %d failed (%s), want %d, %d (running)", got.Written, got.Failed, got.State, written, failed)
		}
	}
	set(a.ID, "pending", "storage busy")
	counts(0, 0)
	set(a.ID, "written", "")
	counts(1, 0)
	set(b.ID, "failed", "corrupt")
	counts(1, 1)
	set(b.ID, "written", "")
	counts(2, 0)
	set(c.ID, "failed", "corrupt")
	set(c.ID, "failed", "still corrupt")
	counts(2, 1)
	if err := s.SetMetadataWriteItem(ctx, w.ID, other.ID, "written", "", f.now); err == nil {
		t.Error("a file outside the write was recorded")
	}
	counts(2, 1)
	items, err := s.ListMetadataWriteItems(ctx, f.accA.ID, w.ID, "", 0, 10)
	must(t, err, "ListMetadataWriteItems")
	if len(items) != 3 || items[0].Attempts != 1 {
		t.Errorf("items %+v, want 3 with one attempt on a", items)
	}
	done, err := s.FinishMetadataWrite(ctx, w.ID, f.now)
	if err != nil || !done {
		t.Errorf("FinishMetadataWrite: %v %v", done, err)
	}
}
