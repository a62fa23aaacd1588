package multinode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/auth"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// raceRounds is how many rename races and how many upload races each
// storage gets; uploadsPerNode is how many uploads of one name each node
// receives at once in an upload race.
const (
	raceRounds     = 100
	uploadsPerNode = 10
)

// TestTwoNodesRaceForOneName runs two `shelf serve` processes on one
// PostgreSQL database and makes them race for one name, through the API as
// clients would: in a rename race node 1 renames one file and node 2
// another to the same name at the same moment; in an upload race each node
// gets ten uploads of one name at once. On a local folder and on S3
// (versitygw), every race must leave exactly one winner (200 / 201), every
// other request a 409, the winner's content at its path, the loser's file
// where it was, and the catalog saying the same; a sync afterwards finds
// nothing to change.
func TestTwoNodesRaceForOneName(t *testing.T) {
	if testing.Short() {
		t.Skip("the two-node races run for minutes; skipped with -short")
	}
	dbURL := testenv.PostgresURL(t)
	ctx := context.Background()
	work := t.TempDir()
	bin := buildShelf(t, work)
	root := filepath.Join(work, "libraries")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"SHELF_DATABASE_URL=" + dbURL,
		"SHELF_LOCAL_ROOTS=" + root,
		"SHELF_SECRET_KEY=" + randomHex(32),
		"SHELF_LOG_LEVEL=info",
		"SHELF_LOG_FORMAT=text",
	}
	run(t, bin, env, "migrate")
	store, err := catalog.Open(ctx, dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	var nodes [2]*node
	var urls [2]string
	for i := range nodes {
		port := freePort(t)
		nodes[i] = startNode(t, bin, env, fmt.Sprintf("node-%d", i+1), "serve", "--listen", "127.0.0.1:"+port)
		urls[i] = "http://127.0.0.1:" + port
	}
	for i := range nodes {
		waitHTTP(t, urls[i]+"/healthz", nodes[i])
	}
	logs := func() string {
		return fmt.Sprintf("node-1 log tail:\n%s\nnode-2 log tail:\n%s", nodes[0].log.tail(30), nodes[1].log.tail(30))
	}

	t.Run("Local", func(t *testing.T) {
		dir := filepath.Join(root, "races")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		lib := newRaceLibrary(t, store, urls, "local races", map[string]any{"kind": "local", "path": dir}, localFiles(dir))
		lib.race(t, logs)
	})
	t.Run("S3", func(t *testing.T) {
		real := testenv.RealS3(t)
		bucket := testenv.RandomName("shelf-races-")
		raw := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(real.Endpoint), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(real.AccessKey, real.SecretKey, "")})
		if _, err := raw.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatalf("creating bucket %s: %v", bucket, err)
		}
		lib := newRaceLibrary(t, store, urls, "s3 races", map[string]any{
			"kind": "s3", "bucket": bucket, "prefix": "lib", "region": "us-east-1", "endpoint": real.Endpoint,
			"path_style": true, "access_key_id": real.AccessKey, "secret_access_key": real.SecretKey,
		}, s3Files{raw: raw, bucket: bucket, prefix: "lib/"})
		lib.race(t, logs)
	})
}

// files reads the storage behind a library directly, as its owner would.
type files interface {
	// read returns the content at a library path; ok is false when nothing
	// is there.
	read(t *testing.T, path string) (content []byte, ok bool)
}

type localFiles string

func (dir localFiles) read(t *testing.T, p string) ([]byte, bool) {
	b, err := os.ReadFile(filepath.Join(string(dir), filepath.FromSlash(p)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("reading %s: %v", p, err)
	}
	return b, true
}

type s3Files struct {
	raw    *awss3.Client
	bucket string
	prefix string
}

func (s s3Files) read(t *testing.T, p string) ([]byte, bool) {
	out, err := s.raw.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + p)})
	if err != nil {
		if strings.Contains(err.Error(), "NoSuchKey") || strings.Contains(err.Error(), "StatusCode: 404") {
			return nil, false
		}
		t.Fatalf("reading %s from the bucket: %v", p, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("reading %s from the bucket: %v", p, err)
	}
	return b, true
}

// raceLibrary is one account, its storage connected, and an API client per
// node.
type raceLibrary struct {
	store   *catalog.Store
	account int64
	nodes   [2]apiClient
	files   files
}

func newRaceLibrary(t *testing.T, store *catalog.Store, urls [2]string, name string, storage map[string]any, files files) *raceLibrary {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	// The free plan has no auto-sync: no sync locks the library mid-race.
	acct, admin, err := store.CreateAccountWithAdmin(ctx, catalog.NewAccount{Name: name, Plan: policy.PlanFree},
		catalog.NewUser{Email: testenv.RandomName("racer") + "@example.com", PasswordHash: "x"}, now)
	if err != nil {
		t.Fatal(err)
	}
	token, hash, prefix, err := auth.NewAPIToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateAPIToken(ctx, catalog.APIToken{UserID: admin.ID, Name: "races", TokenHash: hash, Prefix: prefix, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4 * uploadsPerNode}}
	lib := &raceLibrary{store: store, account: acct.ID, files: files}
	for i, u := range urls {
		lib.nodes[i] = apiClient{base: u, token: token, http: client}
	}
	body, _ := json.Marshal(storage)
	status, resp := lib.nodes[0].call(t, http.MethodPut, "/api/v1/storage", "application/json", bytes.NewReader(body))
	if status != http.StatusOK {
		t.Fatalf("connecting storage: %d %s", status, resp)
	}
	lib.waitForSync(t)
	return lib
}

// waitForSync waits until the account's latest sync has finished and
// returns it.
func (l *raceLibrary) waitForSync(t *testing.T) catalog.SyncRun {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		runs, err := l.store.ListSyncRuns(context.Background(), l.account, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) > 0 && runs[0].FinishedAt != nil {
			if runs[0].State != catalog.RunSucceeded {
				t.Fatalf("sync run %d %s: %s", runs[0].ID, runs[0].State, runs[0].Error)
			}
			return runs[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the sync did not finish within 2 minutes")
	return catalog.SyncRun{}
}

// race runs the rename and upload races, then a sync that must find the
// catalog and the storage equal.
func (l *raceLibrary) race(t *testing.T, logs func() string) {
	var renames, uploads raceTally
	for round := range raceRounds {
		l.renameRace(t, round, &renames)
		l.uploadRace(t, round, &uploads)
		if t.Failed() && renames.broken+uploads.broken > 10 {
			t.Fatalf("stopping after round %d:\n%s", round, logs())
		}
	}
	status, resp := l.nodes[1].call(t, http.MethodPost, "/api/v1/sync", "application/json", strings.NewReader("{}"))
	if status != http.StatusAccepted {
		t.Fatalf("starting the closing sync: %d %s", status, resp)
	}
	run := l.waitForSync(t)
	c := run.Counts
	t.Logf("RACE FIGURES (%s): rename races=%d won=%d refused(409)=%d other=%d broken=%d; upload races=%d uploads=%d won(201)=%d refused(409)=%d other=%d broken=%d; closing sync run %d: seen=%d added=%d updated=%d moved=%d removed=%d",
		t.Name(), raceRounds, renames.won, renames.refused, renames.other, renames.broken,
		raceRounds, raceRounds*2*uploadsPerNode, uploads.won, uploads.refused, uploads.other, uploads.broken,
		run.ID, c.Seen, c.Added, c.Updated, c.Moved, c.Removed)
	if c.Added+c.Updated+c.Moved+c.Removed != 0 {
		t.Errorf("the closing sync found the catalog and the storage apart: %+v", c)
	}
	if renames.broken+uploads.broken > 0 {
		t.Errorf("%d rename and %d upload races lost a file or answered wrongly\n%s", renames.broken, uploads.broken, logs())
	}
}

// raceTally counts the answers of one kind of race.
type raceTally struct {
	won, refused, other int
	// broken counts races that did not end with one winner and nothing lost.
	broken int
}

// renameRace: s-a and s-b are uploaded; node 1 renames s-a and node 2
// renames s-b to t at the same moment.
func (l *raceLibrary) renameRace(t *testing.T, round int, tally *raceTally) {
	t.Helper()
	src := [2]string{fmt.Sprintf("s-a-%03d.txt", round), fmt.Sprintf("s-b-%03d.txt", round)}
	target := fmt.Sprintf("t-%03d.txt", round)
	var ids [2]int64
	for i, name := range src {
		status, id, resp := l.nodes[0].upload(t, name, raceContent(name, 0))
		if status != http.StatusCreated {
			t.Fatalf("round %d: uploading %s: %d %s", round, name, status, resp)
		}
		ids[i] = id
	}
	var statuses [2]int
	var bodies [2]string
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			<-start
			status, resp := l.nodes[i].call(t, http.MethodPatch, fmt.Sprintf("/api/v1/assets/%d", ids[i]), "application/json",
				strings.NewReader(fmt.Sprintf(`{"name":%q}`, target)))
			statuses[i], bodies[i] = status, resp
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, s := range statuses {
		switch s {
		case http.StatusOK:
			tally.won++
			winner = i
		case http.StatusConflict:
			tally.refused++
		default:
			tally.other++
			t.Errorf("round %d: renaming %s on node %d answered %d %s", round, src[i], i+1, s, bodies[i])
		}
	}
	problems := l.checkRename(t, src, target, ids, statuses, winner)
	if len(problems) > 0 {
		tally.broken++
		t.Errorf("rename round %d (answers %v): %s", round, statuses, strings.Join(problems, "; "))
	}
}

// checkRename lists what is wrong after a rename race.
func (l *raceLibrary) checkRename(t *testing.T, src [2]string, target string, ids [2]int64, statuses [2]int, winner int) []string {
	var problems []string
	if winner < 0 || statuses[1-winner] != http.StatusConflict {
		return append(problems, "want one 200 and one 409")
	}
	loser := 1 - winner
	if got, ok := l.files.read(t, target); !ok || !bytes.Equal(got, raceContent(src[winner], 0)) {
		problems = append(problems, fmt.Sprintf("%s holds %.24q (present %v), want the renamed %s", target, got, ok, src[winner]))
	}
	if got, ok := l.files.read(t, src[loser]); !ok || !bytes.Equal(got, raceContent(src[loser], 0)) {
		problems = append(problems, fmt.Sprintf("the refused rename's %s is lost (present %v)", src[loser], ok))
	}
	if _, ok := l.files.read(t, src[winner]); ok {
		problems = append(problems, fmt.Sprintf("the renamed %s is still in the storage", src[winner]))
	}
	for i, want := range map[int]string{winner: target, loser: src[loser]} {
		if path, size := l.nodes[loser].asset(t, ids[i]); path != want || size != int64(len(raceContent(src[i], 0))) {
			problems = append(problems, fmt.Sprintf("the catalog has asset %d at %q (%d bytes), want %q", ids[i], path, size, want))
		}
	}
	return problems
}

// uploadRace: each node gets uploadsPerNode uploads of one name at once.
func (l *raceLibrary) uploadRace(t *testing.T, round int, tally *raceTally) {
	t.Helper()
	name := fmt.Sprintf("u-%03d.txt", round)
	n := 2 * uploadsPerNode
	statuses := make([]int, n)
	ids := make([]int64, n)
	bodies := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			<-start
			statuses[k], ids[k], bodies[k] = l.nodes[k%2].upload(t, name, raceContent(name, k))
		})
	}
	close(start)
	wg.Wait()

	winner, won := -1, 0
	for k, s := range statuses {
		switch s {
		case http.StatusCreated:
			tally.won++
			won++
			winner = k
		case http.StatusConflict:
			tally.refused++
		default:
			tally.other++
			t.Errorf("round %d: upload %d of %s through node %d answered %d %s", round, k, name, k%2+1, s, bodies[k])
		}
	}
	var problems []string
	switch {
	case won != 1:
		problems = append(problems, fmt.Sprintf("%d uploads answered 201 (asset ids %v), want 1", won, winnerIDs(statuses, ids)))
	default:
		want := raceContent(name, winner)
		if got, ok := l.files.read(t, name); !ok || !bytes.Equal(got, want) {
			problems = append(problems, fmt.Sprintf("%s holds %.24q (present %v), not the content of the upload that got 201", name, got, ok))
		}
		if path, size := l.nodes[1-winner%2].asset(t, ids[winner]); path != name || size != int64(len(want)) {
			problems = append(problems, fmt.Sprintf("the catalog has asset %d at %q (%d bytes), want %q (%d bytes)", ids[winner], path, size, name, len(want)))
		}
	}
	if len(problems) > 0 {
		tally.broken++
		t.Errorf("upload round %d: %s", round, strings.Join(problems, "; "))
	}
}

func winnerIDs(statuses []int, ids []int64) []int64 {
	var out []int64
	for k, s := range statuses {
		if s == http.StatusCreated {
			out = append(out, ids[k])
		}
	}
	return out
}

// raceContent is the distinct content of upload k of name, a few pages
// long so the storage write takes a moment.
func raceContent(name string, k int) []byte {
	head := fmt.Sprintf("%s from upload %d\n", name, k)
	return []byte(head + strings.Repeat(fmt.Sprintf("%02d", k%100), 16<<10))
}

// apiClient calls one node's API with a bearer token.
type apiClient struct {
	base, token string
	http        *http.Client
}

func (c apiClient) call(t *testing.T, method, path, contentType string, body io.Reader) (int, string) {
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// upload posts one file to the library's root and returns the status and,
// on 201, the new asset's id.
func (c apiClient) upload(t *testing.T, name string, content []byte) (int, int64, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = mw.Close()
	status, body := c.call(t, http.MethodPost, "/api/v1/assets", mw.FormDataContentType(), &buf)
	if status != http.StatusCreated {
		return status, 0, body
	}
	var out struct {
		Assets []struct {
			ID int64 `json:"id"`
		} `json:"assets"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Assets) != 1 {
		t.Errorf("upload answer %s: %v", body, err)
		return status, 0, body
	}
	return status, out.Assets[0].ID, body
}

// asset returns the catalog's path and size of an asset ("" when it is
// not found).
func (c apiClient) asset(t *testing.T, id int64) (string, int64) {
	status, body := c.call(t, http.MethodGet, fmt.Sprintf("/api/v1/assets/%d", id), "", nil)
	if status != http.StatusOK {
		return "", 0
	}
	var out struct {
		Asset struct {
			Path string `json:"path"`
			Size int64  `json:"size"`
		} `json:"asset"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Errorf("asset answer %s: %v", body, err)
	}
	return out.Asset.Path, out.Asset.Size
}
