package storagetest

import (
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
)

// badPaths can never name anything under a root.
var badPaths = []string{
	"..", "../x", "a/../../x", "a/..", "./a", ".", "/etc/passwd", "/", "", "a//b",
	"a\x00b", "nul\x00", "line\nbreak", "tab\there", "esc\x1b", "del\x7f", "c1\u0085",
	`a\..\b`, "\xff\xfe", strings.Repeat("n", storage.MaxNameBytes+1),
}

func testInvalidPaths(t *testing.T, f Fixture) {
	put(t, f.Conn, "ok.txt", "ok")
	ctx := ctxFor(t)
	for _, p := range badPaths {
		_, err := f.Conn.Stat(ctx, p)
		wantClass(t, "Stat("+quote(p)+")", err, storage.ErrInvalidPath)
		_, err = f.Conn.Open(ctx, p)
		wantClass(t, "Open("+quote(p)+")", err, storage.ErrInvalidPath)
		_, err = f.Conn.Put(ctx, p, strings.NewReader("x"), 1, "")
		wantClass(t, "Put("+quote(p)+")", err, storage.ErrInvalidPath)
		_, err = f.Conn.MkDir(ctx, p)
		wantClass(t, "MkDir("+quote(p)+")", err, storage.ErrInvalidPath)
		wantClass(t, "Delete("+quote(p)+")", f.Conn.Delete(ctx, p), storage.ErrInvalidPath)
		_, err = f.Conn.Move(ctx, "ok.txt", p)
		wantClass(t, "Move(ok.txt, "+quote(p)+")", err, storage.ErrInvalidPath)
		_, err = f.Conn.Move(ctx, p, "moved.txt")
		wantClass(t, "Move("+quote(p)+", moved.txt)", err, storage.ErrInvalidPath)
	}
	wantKeys(t, "Scan after refused calls", scan(t, f.Conn), "ok.txt")
	if got := read(t, f.Conn, "ok.txt"); got != "ok" {
		t.Fatalf("ok.txt changed to %q", got)
	}
}

func quote(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\x00", `\0`), "\n", `\n`)
}

func testOutsideInvisible(t *testing.T, f Fixture) {
	if f.Outside == nil {
		t.Skip("this backend gives no access outside the root")
	}
	names := f.Outside.Names()
	for _, n := range names {
		f.Outside.Put(t, n, []byte("outside "+n))
	}
	put(t, f.Conn, "inside.txt", "inside")
	ctx := ctxFor(t)
	wantKeys(t, "Scan with siblings outside the root", scan(t, f.Conn), "inside.txt")
	if sorted, ok := scanSorted(t, f.Conn); ok {
		wantKeys(t, "ScanSorted with siblings outside the root", sorted, "inside.txt")
	}
	// Try to reach the siblings by every path trick; each attempt must be
	// refused and leave the sibling as it was.
	for _, n := range names {
		for _, p := range []string{"../" + n, "/" + n, "./../" + n, "inside.txt/../../" + n} {
			if _, err := f.Conn.Open(ctx, p); err == nil {
				t.Errorf("Open(%q) read outside the root", p)
			}
			if _, err := f.Conn.Put(ctx, p, strings.NewReader("overwritten"), 11, ""); err == nil {
				t.Errorf("Put(%q) wrote outside the root", p)
			}
			if err := f.Conn.Delete(ctx, p); err == nil {
				t.Errorf("Delete(%q) succeeded", p)
			}
			if _, err := f.Conn.Move(ctx, "inside.txt", p); err == nil {
				t.Errorf("Move(inside.txt, %q) succeeded", p)
			}
		}
	}
	// Deleting and moving everything inside must leave the siblings alone.
	if _, err := f.Conn.Move(ctx, "inside.txt", "renamed.txt"); err != nil {
		t.Fatalf("Move inside the root: %v", err)
	}
	if err := f.Conn.Delete(ctx, "renamed.txt"); err != nil {
		t.Fatalf("Delete inside the root: %v", err)
	}
	for _, n := range names {
		got, ok := f.Outside.Get(t, n)
		if !ok || string(got) != "outside "+n {
			t.Errorf("sibling %q outside the root changed: present=%v content=%q", n, ok, got)
		}
	}
	if got := scan(t, f.Conn); len(got) != 0 {
		t.Fatalf("Scan lists %q, want nothing", keys(got))
	}
}

// oddNames are names every backend must store, list and read back as
// they are.
var oddNames = []string{
	"with space.txt",
	" leading and trailing space .txt",
	"ünïcödé.txt",
	"日本語のファイル.jpg",
	"emoji 😀🎉.png",
	"hash#tag.txt",
	"percent%20encoded%.txt",
	"plus+sign.txt",
	"question?mark.txt",
	"quotes 'single' \"double\".txt",
	"amp&semi;colon=eq.txt",
	"brackets [1] {2} (3).txt",
	"tilde~caret^back`tick.txt",
	"star*pipe|lt<gt>.txt",
	"dots...in..name.txt",
	".hidden",
	"-dash-first",
	strings.Repeat("x", storage.MaxNameBytes-4) + ".txt",
	strings.Repeat("é", (storage.MaxNameBytes-4)/2) + ".txt",
	"NFD e\u0301.txt",
}

func testOddNames(t *testing.T, f Fixture) {
	folder := "dir #%+? 😀"
	ctx := ctxFor(t)
	var want []string
	for i, n := range oddNames {
		p := n
		if i%2 == 1 {
			p = folder + "/" + n
		}
		content := "content of " + n
		e := put(t, f.Conn, p, content)
		if e.Path != p || e.Name != n {
			t.Fatalf("Put(%q) returned path %q name %q", p, e.Path, e.Name)
		}
		if got := read(t, f.Conn, p); got != content {
			t.Fatalf("Open(%q) read %q", p, got)
		}
		st, err := f.Conn.Stat(ctx, p)
		if err != nil || st.Name != n || st.Size != int64(len(content)) {
			t.Fatalf("Stat(%q) = %+v, %v", p, st, err)
		}
		want = append(want, p)
	}
	want = append(want, folder+"/")
	wantKeys(t, "Scan of odd names", scan(t, f.Conn), want...)

	// Move and delete work with odd names at both ends.
	from, to := folder+"/"+oddNames[1], "moved "+oddNames[4]
	if _, err := f.Conn.Move(ctx, from, to); err != nil {
		t.Fatalf("Move(%q, %q): %v", from, to, err)
	}
	if got := read(t, f.Conn, to); got != "content of "+oddNames[1] {
		t.Fatalf("read %q after moving an odd name", got)
	}
	if _, err := f.Conn.Move(ctx, folder, "renamed "+folder); err != nil {
		t.Fatalf("Move of folder %q: %v", folder, err)
	}
	if got := read(t, f.Conn, "renamed "+folder+"/"+oddNames[3]); got != "content of "+oddNames[3] {
		t.Fatalf("read %q after moving an odd folder", got)
	}
	for _, p := range []string{to, "renamed " + folder, oddNames[0], oddNames[len(oddNames)-2]} {
		if err := f.Conn.Delete(ctx, p); err != nil {
			t.Fatalf("Delete(%q): %v", p, err)
		}
		_, err := f.Conn.Stat(ctx, p)
		wantClass(t, "Stat after Delete("+p+")", err, storage.ErrNotFound)
	}
}

func testOddNamesSorted(t *testing.T, f Fixture) {
	if _, ok := f.Conn.(storage.SortedScanner); !ok {
		t.Skip("no sorted scan")
	}
	for _, n := range oddNames {
		put(t, f.Conn, "s/"+n, n)
		put(t, f.Conn, n+"/inner", n)
	}
	sorted, _ := scanSorted(t, f.Conn)
	unsorted := scan(t, f.Conn)
	if a, b := keys(sorted), keys(unsorted); strings.Join(a, "\x00") != strings.Join(b, "\x00") {
		t.Fatalf("ScanSorted and Scan disagree:\n%q\n%q", a, b)
	}
}
