package storagetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
)

func testCreate(t *testing.T, f Fixture) {
	body := "a new file"
	e, err := f.Conn.Create(ctxFor(t), "new/a.txt", strings.NewReader(body), int64(len(body)), "text/plain")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if e.Path != "new/a.txt" || e.Name != "a.txt" || e.IsDir || e.Size != int64(len(body)) {
		t.Fatalf("Create returned %+v", e)
	}
	if got := read(t, f.Conn, "new/a.txt"); got != body {
		t.Fatalf("read %q after Create", got)
	}
	wantKeys(t, "Scan after Create", scan(t, f.Conn), "new/", "new/a.txt")
}

func testCreateRefusesToReplace(t *testing.T, f Fixture) {
	put(t, f.Conn, "doc.txt", "version one")
	mkdir(t, f.Conn, "dir")
	for _, p := range []string{"doc.txt", "dir"} {
		_, err := f.Conn.Create(ctxFor(t), p, strings.NewReader("replacement"), 11, "")
		wantClass(t, "Create over "+p, err, storage.ErrExists)
	}
	if got := read(t, f.Conn, "doc.txt"); got != "version one" {
		t.Fatalf("a refused Create changed the file to %q", got)
	}
	wantKeys(t, "Scan after refused creates", scan(t, f.Conn), "dir/", "doc.txt")
}

// racers is how many writers race for one name in the race cases.
const racers = 8

// testCreateRace: of writers creating one name at once exactly one lands;
// the others get ErrExists and replace nothing.
func testCreateRace(t *testing.T, f Fixture) {
	content := func(i int) string { return fmt.Sprintf("writer %d %s", i, strings.Repeat("x", 4096)) }
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			c := content(i)
			_, errs[i] = f.Conn.Create(ctxFor(t), "race/one.txt", strings.NewReader(c), int64(len(c)), "")
		})
	}
	wg.Wait()
	winner := oneWinner(t, "Create", errs)
	if got := read(t, f.Conn, "race/one.txt"); got != content(winner) {
		t.Fatalf("race/one.txt holds %.20q…, but writer %d landed", got, winner)
	}
	wantKeys(t, "Scan after the race", scan(t, f.Conn), "race/", "race/one.txt")
}

// testMoveRace: of files moved onto one name at once exactly one lands;
// the others get ErrExists and stay where they were.
func testMoveRace(t *testing.T, f Fixture) {
	want := []string{"target.txt"}
	for i := range racers {
		p := fmt.Sprintf("src-%d.txt", i)
		put(t, f.Conn, p, "content of "+p)
		want = append(want, p)
	}
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			_, errs[i] = f.Conn.Move(ctxFor(t), fmt.Sprintf("src-%d.txt", i), "target.txt")
		})
	}
	wg.Wait()
	winner := oneWinner(t, "Move", errs)
	moved := fmt.Sprintf("src-%d.txt", winner)
	if got := read(t, f.Conn, "target.txt"); got != "content of "+moved {
		t.Fatalf("target.txt holds %q, but %s was moved there", got, moved)
	}
	for i := range racers {
		if p := fmt.Sprintf("src-%d.txt", i); i != winner && read(t, f.Conn, p) != "content of "+p {
			t.Fatalf("%s, whose move was refused, changed", p)
		}
	}
	wantKeys(t, "Scan after the race", scan(t, f.Conn), slicesWithout(want, moved)...)
}

// oneWinner returns the writer whose error is nil, failing the test unless
// there is exactly one and every other got ErrExists.
func oneWinner(t *testing.T, what string, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("%s: writers %d and %d both landed", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrExists):
			t.Fatalf("%s: writer %d failed with %v, want success or ErrExists", what, i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: no writer landed: %v", what, errs)
	}
	return winner
}

func slicesWithout(s []string, drop string) []string {
	var out []string
	for _, v := range s {
		if v != drop {
			out = append(out, v)
		}
	}
	return out
}
