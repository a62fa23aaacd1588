package embedmeta_test

import (
	"testing"

	"github.com/shelf-dam/shelf/internal/embedmeta"
	"github.com/shelf-dam/shelf/internal/library"
	"github.com/shelf-dam/shelf/internal/media"
)

// Metadata jobs run on a queue of their own: a first read of a big library
// (a download and an exiftool run per file) on the preview queue kept the
// thumbnails of new uploads waiting for a minute.
func TestMetadataJobsStayOffThePreviewQueue(t *testing.T) {
	for name, q := range map[string]string{
		"embedmeta.read":         embedmeta.ReadArgs{}.InsertOpts().Queue,
		"library.write_metadata": library.WriteMetadataArgs{}.InsertOpts().Queue,
	} {
		if q != embedmeta.Queue || q == media.Queue {
			t.Errorf("%s runs on queue %q, want %q (not the preview queue %q)", name, q, embedmeta.Queue, media.Queue)
		}
	}
}
