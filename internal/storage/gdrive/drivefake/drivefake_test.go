package drivefake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

func service(t *testing.T, f *drivefake.Server) *drive.Service {
	t.Helper()
	svc, err := drive.NewService(context.Background(), option.WithHTTPClient(f.Client()), option.WithEndpoint(f.URL()+"/drive/v3/"))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func getJSON(t *testing.T, f *drivefake.Server, path string, q url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := f.Client().Get(f.URL() + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestListDefaultsFieldsAndSizeAsString(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{})
	dir := f.CreateFolder("root", "d")
	f.CreateFile(dir, "a.txt", "text/plain", []byte("hello"))
	q := url.Values{"q": {"'" + dir + "' in parents"}}

	_, body := getJSON(t, f, "/drive/v3/files", q)
	file := body["files"].([]any)[0].(map[string]any)
	if _, ok := file["size"]; ok {
		t.Errorf("without fields, Drive returns only kind,id,name,mimeType; got %v", file)
	}
	q.Set("fields", "files(id,size,md5Checksum)")
	_, body = getJSON(t, f, "/drive/v3/files", q)
	file = body["files"].([]any)[0].(map[string]any)
	if file["size"] != "5" || file["md5Checksum"] != "5d41402abc4b2a76b9719d911017c592" || len(file) != 3 {
		t.Errorf("partial response %v, want id, size as the string \"5\" and md5", file)
	}
}

func TestErrorsLookLikeDrive(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{})
	code, body := getJSON(t, f, "/drive/v3/changes", url.Values{"pageToken": {"bogus"}})
	e := body["error"].(map[string]any)
	first := e["errors"].([]any)[0].(map[string]any)
	if code != 400 || first["reason"] != "invalid" || first["location"] != "pageToken" {
		t.Errorf("invalid changes token answered %d %v, want 400 invalid at pageToken", code, body)
	}
	f.FailNext("files.get", 1, drivefake.FaultRateLimit)
	_, err := service(t, f).Files.Get("root").Do()
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 403 || len(ge.Errors) != 1 || ge.Errors[0].Reason != "userRateLimitExceeded" {
		t.Errorf("injected rate limit gave %v, want 403 userRateLimitExceeded", err)
	}
	if f.Calls("files.get") != 1 {
		t.Errorf("files.get calls = %d, want 1", f.Calls("files.get"))
	}
}

func TestPagingWithEmptyPages(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{MaxPageSize: 3, EmptyPageEvery: 2})
	dir := f.CreateFolder("root", "d")
	for range 10 {
		f.CreateFile(dir, "f", "text/plain", nil)
	}
	svc := service(t, f)
	var got, pages, empty int
	err := svc.Files.List().Q("'"+dir+"' in parents and trashed = false").PageSize(1000).Pages(context.Background(), func(l *drive.FileList) error {
		pages++
		got += len(l.Files)
		if len(l.Files) == 0 && l.NextPageToken != "" {
			empty++
		}
		return nil
	})
	if err != nil || got != 10 || empty == 0 {
		t.Errorf("paged listing: err %v, %d files over %d pages (%d empty), want 10 files and some empty pages", err, got, pages, empty)
	}
}

func TestUploadsAndTrash(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{})
	svc := service(t, f)
	big := strings.Repeat("x", 600*1024)
	for _, body := range []string{"small", big} {
		created, err := svc.Files.Create(&drive.File{Name: "u.bin", Parents: []string{"root"}}).
			Media(strings.NewReader(body), googleapi.ChunkSize(256*1024), googleapi.ContentType("application/octet-stream")).
			Fields("id,size,md5Checksum").Do()
		if err != nil {
			t.Fatalf("upload of %d bytes: %v", len(body), err)
		}
		info, _ := f.File(created.Id)
		if string(info.Content) != body || created.Size != int64(len(body)) {
			t.Errorf("upload of %d bytes stored %d bytes (size %d)", len(body), len(info.Content), created.Size)
		}
		resp, err := svc.Files.Get(created.Id).Download()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != body {
			t.Errorf("download returned %d bytes, want %d", len(got), len(body))
		}
	}
	if f.Calls("files.upload") < 4 {
		t.Errorf("files.upload calls = %d; the large upload should take a resumable session and several chunks", f.Calls("files.upload"))
	}

	dir := f.CreateFolder("root", "d")
	child := f.CreateFile(dir, "c", "text/plain", nil)
	if _, err := svc.Files.Update(dir, &drive.File{Trashed: true}).Do(); err != nil {
		t.Fatal(err)
	}
	if info, _ := f.File(child); !info.Trashed {
		t.Error("trashing a folder did not trash its content")
	}
	l, err := svc.Files.List().Q("'" + dir + "' in parents").Fields("files(id,trashed)").Do()
	if err != nil || len(l.Files) != 1 || !l.Files[0].Trashed {
		t.Errorf("a query without trashed = false must still list trashed files, as Drive does: %v %v", l, err)
	}
}

func TestChangesFeed(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{})
	svc := service(t, f)
	start, err := svc.Changes.GetStartPageToken().Do()
	if err != nil {
		t.Fatal(err)
	}
	id := f.CreateFile("root", "a", "text/plain", []byte("1"))
	if err := f.Rename(id, "b"); err != nil {
		t.Fatal(err)
	}
	gone := f.CreateFile("root", "c", "text/plain", nil)
	if err := f.Delete(gone); err != nil {
		t.Fatal(err)
	}
	l, err := svc.Changes.List(start.StartPageToken).Fields("*").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Changes) != 2 || l.Changes[0].File.Name != "b" || !l.Changes[1].Removed || l.NewStartPageToken == "" {
		t.Errorf("changes %+v: want the renamed file once (latest state) and one removal, then a new start token", l.Changes)
	}
}

func TestRejectedChangeTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		how         drivefake.TokenRejection
		code        int
		reason, loc string
	}{
		{drivefake.TokenInvalid, 400, "invalid", "pageToken"},
		{drivefake.TokenNotFound, 404, "notFound", ""},
		{drivefake.TokenGone, 410, "deleted", ""},
	} {
		f := drivefake.New(t, drivefake.Options{})
		svc := service(t, f)
		start, err := svc.Changes.GetStartPageToken().Do()
		if err != nil {
			t.Fatal(err)
		}
		f.RejectChangeTokens(tc.how)
		code, body := getJSON(t, f, "/drive/v3/changes", url.Values{"pageToken": {start.StartPageToken}})
		first := body["error"].(map[string]any)["errors"].([]any)[0].(map[string]any)
		if loc, _ := first["location"].(string); code != tc.code || first["reason"] != tc.reason || loc != tc.loc {
			t.Errorf("rejection %v: the current start token answered %d %v, want %d %s", tc.how, code, body, tc.code, tc.reason)
		}
		fresh, err := svc.Changes.GetStartPageToken().Do()
		if err != nil {
			t.Fatal(err)
		}
		id := f.CreateFile("root", "after", "text/plain", nil)
		l, err := svc.Changes.List(fresh.StartPageToken).Do()
		if err != nil || len(l.Changes) != 1 || l.Changes[0].FileId != id {
			t.Errorf("rejection %v: a token issued afterwards gave %+v %v, want the one new file", tc.how, l, err)
		}
	}
}

func TestChangesOfASharedDriveOutOfReach(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{})
	drv := f.CreateSharedDrive("Team")
	svc := service(t, f)
	start, err := svc.Changes.GetStartPageToken().DriveId(drv).SupportsAllDrives(true).Do()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetAccess(drv, drivefake.AccessNone); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Changes.List(start.StartPageToken).DriveId(drv).SupportsAllDrives(true).IncludeItemsFromAllDrives(true).Do()
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 404 || !strings.Contains(ge.Body, "Shared drive not found") {
		t.Errorf("changes of a shared drive the user left: %v, want 404 Shared drive not found at driveId", err)
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{RequireAuth: true})
	resp, err := http.Get(f.URL() + "/drive/v3/files/root")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("call without a token answered %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", f.URL()+"/drive/v3/files/root", nil)
	req.Header.Set("Authorization", "Bearer "+f.IssueAccessToken())
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("call with an issued token answered %d, want 200", resp.StatusCode)
	}
}

func TestFieldsMasksAndAbout(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{})
	doc := f.CreateFile("root", "a.txt", "text/plain", []byte("x"))
	short := f.CreateShortcut("root", "link", doc)
	_, body := getJSON(t, f, "/drive/v3/files/"+short, url.Values{"fields": {"id,shortcutDetails/targetId"}})
	sd, _ := body["shortcutDetails"].(map[string]any)
	if body["id"] != short || sd["targetId"] != doc || len(sd) != 1 || len(body) != 2 {
		t.Errorf("fields=id,shortcutDetails/targetId gave %v", body)
	}
	code, _ := getJSON(t, f, "/drive/v3/files/"+short, url.Values{"fields": {"id,(("}})
	if code != 400 {
		t.Errorf("a malformed fields mask answered %d, want 400", code)
	}
	code, _ = getJSON(t, f, "/drive/v3/about", nil)
	if code != 400 {
		t.Errorf("about.get without fields answered %d, want 400 as Drive does", code)
	}
	about, err := service(t, f).About.Get().Fields("user(emailAddress)").Do()
	if err != nil || about.User == nil || about.User.EmailAddress == "" {
		t.Errorf("about.get = %+v, %v", about, err)
	}
}

func TestQueryLanguage(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{})
	a := f.CreateFolder("root", "a")
	b := f.CreateFolder("root", "b")
	f.CreateFile(a, "Valentine's Day.txt", "text/plain", nil)
	f.CreateFolder(b, "sub")
	f.CreateNative(b, "doc", drivefake.DocMIME)
	svc := service(t, f)
	count := func(q string) int {
		t.Helper()
		l, err := svc.Files.List().Q(q).Do()
		if err != nil {
			t.Fatalf("q %q: %v", q, err)
		}
		return len(l.Files)
	}
	cases := map[string]int{
		"'" + a + "' in parents or '" + b + "' in parents":                                                 3,
		"('" + a + "' in parents or '" + b + "' in parents) and mimeType = '" + drivefake.FolderMIME + "'": 1,
		"'" + b + "' in parents and mimeType != '" + drivefake.FolderMIME + "'":                            1,
		`name = 'valentine\'s day.txt'`:                                                                    1,
		"not trashed = true and 'root' in parents":                                                         2,
	}
	for q, want := range cases {
		if got := count(q); got != want {
			t.Errorf("q %q matched %d, want %d", q, got, want)
		}
	}
	if _, err := svc.Files.List().Q("name contains").Do(); err == nil {
		t.Error("a malformed query was accepted")
	}
}
