package catalogtest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// testTagEdits: AddTags and RemoveTags change the tags as they are when the
// change is written (so concurrent edits keep each other's tags), are
// normalised like Tags, apply after Tags, keep the search mirror in step
// and respect MaxTags.
func testTagEdits(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	a := f.mkAsset(t, f.accA.ID, nil, "a.jpg", 1, now, "image/jpeg")
	_, err := s.UpdateAssetMetadata(ctx, f.accA.ID, a.ID, catalog.MetadataUpdate{Tags: &[]string{"old", "keep"}}, now)
	must(t, err, "UpdateAssetMetadata tags")

	got, err := s.UpdateAssetMetadata(ctx, f.accA.ID, a.ID, catalog.MetadataUpdate{
		AddTags: []string{" Summer ", "KEEP", ""}, RemoveTags: []string{"OLD"},
	}, now)
	must(t, err, "AddTags/RemoveTags")
	if !slices.Equal(got.Tags, []string{"keep", "summer"}) {
		t.Fatalf("tags = %q, want [keep summer]", got.Tags)
	}
	list, err := s.ListAssetTags(ctx, f.accA.ID, 10)
	must(t, err, "ListAssetTags")
	if len(list) != 2 {
		t.Fatalf("ListAssetTags = %+v, want keep and summer", list)
	}
	// Tags first, then the edits.
	got, err = s.UpdateAssetMetadata(ctx, f.accA.ID, a.ID, catalog.MetadataUpdate{
		Tags: &[]string{"x", "y"}, AddTags: []string{"z"}, RemoveTags: []string{"x"},
	}, now)
	must(t, err, "Tags with AddTags/RemoveTags")
	if !slices.Equal(got.Tags, []string{"y", "z"}) {
		t.Fatalf("tags = %q, want [y z]", got.Tags)
	}
	// Over the limit: refused, nothing changed.
	_, err = s.UpdateAssetMetadata(ctx, f.accA.ID, a.ID, catalog.MetadataUpdate{AddTags: []string{"w"}, MaxTags: 2}, now)
	var many *catalog.TooManyTagsError
	if !errors.As(err, &many) || many.Count != 3 || many.Max != 2 {
		t.Fatalf("adding a third tag with MaxTags 2: %v, want *TooManyTagsError{3, 2}", err)
	}
	got, err = s.GetAsset(ctx, f.accA.ID, a.ID)
	must(t, err, "GetAsset")
	if !slices.Equal(got.Tags, []string{"y", "z"}) {
		t.Fatalf("a refused change changed the tags to %q", got.Tags)
	}
	// Concurrent adds all land.
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateAssetMetadata(ctx, f.accA.ID, a.ID, catalog.MetadataUpdate{AddTags: []string{fmt.Sprintf("c%d", i)}}, now)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err, "concurrent AddTags")
	}
	got, err = s.GetAsset(ctx, f.accA.ID, a.ID)
	must(t, err, "GetAsset")
	if len(got.Tags) != n+2 {
		t.Fatalf("after %d concurrent adds the asset has tags %q", n, got.Tags)
	}
}
