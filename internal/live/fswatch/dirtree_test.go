package fswatch

import (
	"slices"
	"testing"
)

func TestDirTreeRemovesWholeSubtrees(t *testing.T) {
	t.Parallel()
	tr := newDirTree()
	for _, p := range []string{"", "a", "a/b", "a/b/c", "a-b", "ab", "x/y"} { // x/y: parent not watched
		tr.add(p)
	}
	got := tr.removeTree("a")
	slices.Sort(got)
	if want := []string{"a", "a/b", "a/b/c"}; !slices.Equal(got, want) {
		t.Errorf("removeTree(a) = %q, want %q", got, want)
	}
	if got := tr.removeTree("x"); !slices.Equal(got, []string{"x/y"}) {
		t.Errorf("removeTree(x) = %q, want the orphan x/y", got)
	}
	for p, want := range map[string]bool{"": true, "a": false, "a/b/c": false, "a-b": true, "ab": true, "x/y": false} {
		if tr.has(p) != want {
			t.Errorf("has(%q) = %v, want %v", p, !want, want)
		}
	}
	tr.add("a")
	if got := tr.removeTree("a"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("re-added a: removeTree = %q, want only a", got)
	}
}
