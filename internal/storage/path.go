package storage

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes is the longest single path element Shelf accepts (the common
// limit of local file systems; S3 and Drive allow more).
const MaxNameBytes = 255

// CleanPath validates a root-relative path given by a user or a storage and
// returns it in canonical form ("a/b/c", no leading or trailing slash). It
// refuses anything that could escape the root or that no storage can hold:
// absolute paths, "." and ".." elements, empty elements, NUL and other
// control characters, backslashes, invalid UTF-8, and over-long names. The
// root itself is "" and is refused unless allowRoot is set.
func CleanPath(p string, allowRoot bool) (string, error) {
	if p == "" || p == "/" {
		if allowRoot {
			return "", nil
		}
		return "", Classify(ErrInvalidPath, "", p, fmt.Errorf("the storage root itself cannot be used here"))
	}
	if strings.HasPrefix(p, "/") {
		return "", Classify(ErrInvalidPath, "", p, fmt.Errorf("absolute paths are not allowed; give a path relative to the connected root"))
	}
	p = strings.TrimSuffix(p, "/")
	for _, el := range strings.Split(p, "/") {
		if err := CheckName(el); err != nil {
			return "", Classify(ErrInvalidPath, "", p, err)
		}
	}
	return p, nil
}

// CheckName validates one path element (a file or folder name).
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty path element (double slash)")
	case name == "." || name == "..":
		return fmt.Errorf("%q elements are not allowed", name)
	case len(name) > MaxNameBytes:
		return fmt.Errorf("name is %d bytes long; the limit is %d", len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		return fmt.Errorf("name is not valid UTF-8")
	case strings.ContainsRune(name, '\\'):
		return fmt.Errorf("backslashes are not allowed in names")
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("control characters (such as NUL or newline) are not allowed in names")
		}
	}
	return nil
}

// Join joins a folder path and a name into a root-relative path.
func Join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// Dir returns the parent path of a root-relative path ("" for top level).
func Dir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// Base returns the last element of a root-relative path.
func Base(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
