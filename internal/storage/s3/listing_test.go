package s3_test

import (
	"bytes"
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

func TestFolderMarkersAndImpliedFolders(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	env.seed(t,
		"root/",                // the root's own marker: not an entry
		"root/a/b/c.jpg",       // implies a and a/b
		"root/a/",              // marker of a (listed before its children)
		"root/x/y/",            // marker only: x implied, x/y from the marker
		"root/a!.txt",          // sorts before "a/"
		"root/bad//double.txt", // no path can name it: skipped
		"root/dots/../up.txt",  // skipped
		"root/ctl\x01.txt",     // skipped: listed URL-encoded, so not mangled
		"rootless.txt",         // outside the prefix
	)
	c := env.conn(t, func(cfg *s3.Config) { cfg.Prefix = "/root/" })
	got, err := collect(t, c.ScanSorted)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a!.txt", "a/", "a/b/", "a/b/c.jpg", "x/", "x/y/"}
	if !slices.Equal(got, want) {
		t.Fatalf("ScanSorted = %q\nwant       %q", got, want)
	}
	st, err := c.Stat(context.Background(), "x/y")
	if err != nil || !st.IsDir || st.ModTime.IsZero() {
		t.Fatalf("Stat of a marker-only folder = %+v, %v; want a folder with the marker's time", st, err)
	}
}

func TestParallelListingMatchesSequential(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	var keys []string
	for i := range 70 {
		p := keyf("lib/p%02d", i)
		n := 1 + i%4
		if i == 13 {
			n = 2600 // several pages inside one prefix
		}
		for j := range n {
			keys = append(keys, keyf("%s/f%04d.jpg", p, j))
		}
		if i%10 == 3 {
			keys = append(keys, p+"/", p+"/deep/er/x.txt", keyf("lib/p%02d!top.txt", i), keyf("lib/p%02d-top.txt", i))
		}
	}
	keys = append(keys, "lib/top.txt", "lib/0first.txt", "lib/~last.txt", "lib-outside/p00/x.jpg")
	env.seed(t, keys...)

	seq := env.conn(t, func(cfg *s3.Config) { cfg.Prefix = "lib" })
	par := env.conn(t, func(cfg *s3.Config) { cfg.Prefix = "lib"; cfg.ParallelPrefixes = 8 })

	wantSorted, err := collect(t, seq.ScanSorted)
	if err != nil {
		t.Fatal(err)
	}
	if len(wantSorted) < 2700 {
		t.Fatalf("sequential scan listed only %d entries", len(wantSorted))
	}
	env.srv.ResetCalls()
	env.srv.SetLatency(s3fake.OpList, 5*time.Millisecond)
	gotSorted, err := collect(t, par.ScanSorted)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotSorted, wantSorted) {
		t.Fatalf("parallel ScanSorted differs from the sequential one (%d vs %d entries)", len(gotSorted), len(wantSorted))
	}
	if n := env.srv.MaxConcurrent(s3fake.OpList); n < 2 {
		t.Fatalf("parallel scan had at most %d LIST call in flight; it did not list in parallel", n)
	}
	gotScan, err := collect(t, par.Scan)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(gotScan)
	if !slices.Equal(gotScan, wantSorted) {
		t.Fatalf("parallel Scan lists a different set (%d vs %d entries)", len(gotScan), len(wantSorted))
	}
	for _, k := range wantSorted {
		if strings.HasPrefix(k, "lib-outside") || strings.Contains(k, "lib/") {
			t.Fatalf("listing leaked a key outside the prefix or kept the prefix: %q", k)
		}
	}
}

// TestRepeatedCommonPrefixFallsBack uses gofakes3's real quirk: a
// delimited page ending inside a prefix makes the next page repeat it.
// The parallel scan must notice and fall back to the full listing.
func TestRepeatedCommonPrefixFallsBack(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t, s3fake.WithGofakes3Listing())
	var keys []string
	for i := range 999 {
		keys = append(keys, keyf("f%04d.txt", i))
	}
	keys = append(keys, "g/0", "g/1", "g/2", "h/0", "zz.txt")
	env.seed(t, keys...)
	seq := env.conn(t, nil)
	par := env.conn(t, func(cfg *s3.Config) { cfg.ParallelPrefixes = 4 })
	want, err := collect(t, seq.ScanSorted)
	if err != nil {
		t.Fatal(err)
	}
	for _, scan := range []func(context.Context, func(storage.Entry) error) error{par.ScanSorted, par.Scan} {
		got, err := collect(t, scan)
		if err != nil {
			t.Fatalf("parallel scan on a server that repeats common prefixes: %v", err)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("parallel scan listed %d entries, want %d", len(got), len(want))
		}
	}
}

// listRewriter serves the fake through a function that may rewrite
// ListObjectsV2 answers, to play a server that breaks the protocol.
func listRewriter(t *testing.T, env fakeEnv, rewrite func(r *http.Request, body string) string) string {
	t.Helper()
	h := env.srv.Handler()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.String()
		if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
			body = rewrite(r, body)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		io.Copy(w, bytes.NewReader([]byte(body)))
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL
}

var tokenRE = regexp.MustCompile(`<NextContinuationToken>[^<]*</NextContinuationToken>`)

func TestListingGuards(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t, s3fake.WithGofakes3Listing()) // plain keys, easy to rewrite
	var keys []string
	for i := range 2500 {
		keys = append(keys, keyf("in/k%05d", i))
	}
	env.seed(t, keys...)

	cases := []struct {
		name    string
		rewrite func(r *http.Request, body string) string
		want    error
	}{
		{"truncated without token", func(r *http.Request, body string) string {
			return tokenRE.ReplaceAllString(body, "")
		}, s3.ErrTruncatedWithoutToken},
		{"same token again", func(r *http.Request, body string) string {
			if tok := r.URL.Query().Get("continuation-token"); tok != "" {
				return tokenRE.ReplaceAllString(body, "<NextContinuationToken>"+tok+"</NextContinuationToken>")
			}
			return body
		}, s3.ErrRepeatedToken},
		{"key outside the prefix", func(r *http.Request, body string) string {
			return strings.Replace(body, "<Key>in/k00000</Key>", "<Key>elsewhere/k00000</Key>", 1)
		}, s3.ErrKeyOutsidePrefix},
		{"keys out of order", func(r *http.Request, body string) string {
			if r.URL.Query().Get("continuation-token") != "" {
				return strings.Replace(body, "<Key>in/k01000</Key>", "<Key>in/k00001</Key>", 1)
			}
			return body
		}, s3.ErrKeysOutOfOrder},
	}
	for _, tc := range cases {
		endpoint := listRewriter(t, env, tc.rewrite)
		c := env.conn(t, func(cfg *s3.Config) { cfg.Endpoint = endpoint; cfg.Prefix = "in" })
		for name, scan := range map[string]func(context.Context, func(storage.Entry) error) error{"Scan": c.Scan, "ScanSorted": c.ScanSorted} {
			got, err := collect(t, scan)
			if !errors.Is(err, tc.want) || !errors.Is(err, storage.ErrFatal) {
				t.Errorf("%s, %s: listed %d entries and returned %v; want ErrFatal wrapping %v", tc.name, name, len(got), err, tc.want)
			}
		}
	}
	// Through the same proxy without rewriting, everything is listed.
	endpoint := listRewriter(t, env, func(_ *http.Request, body string) string { return body })
	c := env.conn(t, func(cfg *s3.Config) { cfg.Endpoint = endpoint; cfg.Prefix = "in" })
	got, err := collect(t, c.Scan)
	if err != nil || len(got) != len(keys) {
		t.Fatalf("plain proxy: listed %d of %d keys, err %v", len(got), len(keys), err)
	}
}

func TestRepeatedCommonPrefixGuard(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t, s3fake.WithGofakes3Listing())
	var keys []string
	for i := range 999 {
		keys = append(keys, keyf("f%04d.txt", i))
	}
	keys = append(keys, "g/0", "g/1")
	env.seed(t, keys...)
	err := s3.ListDelimitedForTest(context.Background(), env.conn(t, nil))
	if !errors.Is(err, s3.ErrRepeatedPrefix) || !errors.Is(err, storage.ErrFatal) {
		t.Fatalf("delimited listing on a server that repeats a common prefix = %v, want ErrFatal wrapping ErrRepeatedPrefix", err)
	}
}

var keyRE = regexp.MustCompile(`<Key>([^<]*)</Key>`)

// TestURLEncodedListingsAreDecoded plays a server that honours
// encoding-type=url (AWS does; gofakes3 and versitygw ignore it) by
// rewriting gofakes3's own answers.
func TestURLEncodedListingsAreDecoded(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t, s3fake.WithGofakes3Listing())
	odd := []string{"in/a b+c%d.txt", "in/é ü/x&y=z?.jpg", "in/plain.txt"}
	env.seed(t, odd...)
	endpoint := listRewriter(t, env, func(r *http.Request, body string) string {
		if r.URL.Query().Get("encoding-type") != "url" {
			t.Errorf("listing did not ask for encoding-type=url")
		}
		body = keyRE.ReplaceAllStringFunc(body, func(m string) string {
			k := keyRE.FindStringSubmatch(m)[1]
			return "<Key>" + url.QueryEscape(html.UnescapeString(k)) + "</Key>"
		})
		return strings.Replace(body, "<IsTruncated>", "<EncodingType>url</EncodingType><IsTruncated>", 1)
	})
	c := env.conn(t, func(cfg *s3.Config) { cfg.Endpoint = endpoint; cfg.Prefix = "in" })
	got, err := collect(t, c.ScanSorted)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a b+c%d.txt", "plain.txt", "é ü/", "é ü/x&y=z?.jpg"}
	if !slices.Equal(got, want) {
		t.Fatalf("ScanSorted = %q, want %q", got, want)
	}
	rc, err := c.Open(context.Background(), "a b+c%d.txt")
	if err != nil {
		t.Fatalf("Open of a decoded key: %v", err)
	}
	rc.Close()
}

// TestKeyThatIsAlsoAFolder: "a" next to "a/b" (old s3fs wrote folders
// so) is reported once, as the folder, by every scan and by Stat.
func TestKeyThatIsAlsoAFolder(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	env.seed(t, "a", "a-1.jpg", "a.jpg", "a/b.jpg", "c", "c.xmp", "d/e", "d/e.txt", "d/e/f", "z")
	want := []string{"a-1.jpg", "a.jpg", "a/", "a/b.jpg", "c", "c.xmp", "d/", "d/e.txt", "d/e/", "d/e/f", "z"}
	for _, workers := range []int{0, 4} {
		c := env.conn(t, func(cfg *s3.Config) { cfg.ParallelPrefixes = workers })
		got, err := collect(t, c.ScanSorted)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("workers=%d: ScanSorted = %q\nwant %q", workers, got, want)
		}
		got, err = collect(t, c.Scan)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Fatalf("workers=%d: Scan = %q", workers, got)
		}
		for _, p := range []string{"a", "d/e"} {
			st, err := c.Stat(context.Background(), p)
			if err != nil || !st.IsDir {
				t.Fatalf("Stat(%q) = %+v, %v; want the folder", p, st, err)
			}
		}
		if st, err := c.Stat(context.Background(), "c"); err != nil || st.IsDir {
			t.Fatalf("Stat(c) = %+v, %v; want the file", st, err)
		}
	}
}

// TestHeldEntriesAreBounded: many keys between "a" and "a/" are not all
// held in memory; a LIST call settles "a" instead.
func TestHeldEntriesAreBounded(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	keys := []string{"a", "a/x"}
	for i := range 2500 {
		keys = append(keys, keyf("a-%05d", i))
	}
	env.seed(t, keys...)
	got, err := collect(t, env.conn(t, nil).ScanSorted)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2502 || slices.Contains(got, "a") || got[len(got)-2] != "a/" {
		t.Fatalf("listed %d entries (file a present: %v), want 2502 with only the folder a/", len(got), slices.Contains(got, "a"))
	}
}

// TestParallelScanStopsWhenCancelled: cancelling the context part way
// through a parallel scan ends it with the context's error, whichever
// prefix the scan is waiting on.
func TestParallelScanStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	var keys []string
	for i := range 40 {
		for j := range 30 {
			keys = append(keys, keyf("p%02d/f%02d", i, j))
		}
	}
	env.seed(t, keys...)
	env.srv.SetLatency(s3fake.OpList, 2*time.Millisecond)
	c := env.conn(t, func(cfg *s3.Config) { cfg.ParallelPrefixes = 4 })
	for name, scan := range map[string]func(context.Context, func(storage.Entry) error) error{"ScanSorted": c.ScanSorted, "Scan": c.Scan} {
		for _, after := range []int{1, 31, 200, 900} {
			ctx, cancel := context.WithCancel(context.Background())
			n := 0
			err := scan(ctx, func(storage.Entry) error {
				n++
				if n == after {
					cancel()
				}
				return nil
			})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s cancelled after %d entries returned %v after %d entries, want context.Canceled", name, after, err, n)
			}
		}
	}
}
