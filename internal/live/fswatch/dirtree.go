package fswatch

import "github.com/shelf-dam/shelf/internal/storage"

// dirTree is the set of watched folders (root-relative, "" for the root),
// indexed by parent so that a moved or removed subtree is found without a
// scan of every folder.
type dirTree struct {
	watched map[string]struct{}
	kids    map[string]map[string]struct{} // folder → names of watched subfolders
}

func newDirTree() *dirTree {
	return &dirTree{watched: make(map[string]struct{}), kids: make(map[string]map[string]struct{})}
}

func (t *dirTree) len() int { return len(t.watched) }

func (t *dirTree) has(p string) bool {
	_, ok := t.watched[p]
	return ok
}

func (t *dirTree) add(p string) {
	t.watched[p] = struct{}{}
	if p == "" {
		return
	}
	parent := storage.Dir(p)
	if t.kids[parent] == nil {
		t.kids[parent] = make(map[string]struct{})
	}
	t.kids[parent][storage.Base(p)] = struct{}{}
}

// removeTree removes p and every folder under it and returns them.
func (t *dirTree) removeTree(p string) []string {
	var removed []string
	var walk func(string)
	walk = func(d string) {
		if _, ok := t.watched[d]; ok {
			delete(t.watched, d)
			removed = append(removed, d)
		}
		for name := range t.kids[d] {
			walk(storage.Join(d, name))
		}
		delete(t.kids, d)
	}
	walk(p)
	if p != "" {
		if siblings := t.kids[storage.Dir(p)]; siblings != nil {
			delete(siblings, storage.Base(p))
		}
	}
	return removed
}
