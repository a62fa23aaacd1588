package drivefake

import (
	"fmt"
	"strings"
)

// selector is a parsed "fields" parameter (a partial response mask such as
// "nextPageToken,files(id,name,shortcutDetails/targetId)"). A nil selector
// keeps everything.
type selector map[string]selector

// parseFields parses a fields mask. "*" (or "") keeps everything.
func parseFields(s string) (selector, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" {
		return nil, nil
	}
	sel, rest, err := parseFieldList(s)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, fmt.Errorf("unexpected %q in fields", rest)
	}
	return sel, nil
}

func parseFieldList(s string) (selector, string, error) {
	sel := selector{}
	for {
		s = strings.TrimLeft(s, " ")
		name := s
		if i := strings.IndexAny(s, ",()"); i >= 0 {
			name, s = s[:i], s[i:]
		} else {
			s = ""
		}
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, s, fmt.Errorf("empty field name in fields")
		}
		var sub selector
		if strings.HasPrefix(s, "(") {
			inner, rest, err := parseFieldList(s[1:])
			if err != nil {
				return nil, rest, err
			}
			if !strings.HasPrefix(rest, ")") {
				return nil, rest, fmt.Errorf("missing ) in fields")
			}
			sub, s = inner, rest[1:]
		}
		addPath(sel, strings.Split(name, "/"), sub)
		if strings.HasPrefix(s, ",") {
			s = s[1:]
			continue
		}
		return sel, s, nil
	}
}

// addPath adds "a/b/c" (with an optional sub-selector for the last part).
func addPath(sel selector, parts []string, sub selector) {
	name := parts[0]
	if name == "*" {
		return
	}
	if len(parts) == 1 {
		if existing, ok := sel[name]; ok && existing != nil && sub != nil {
			for k, v := range sub {
				existing[k] = v
			}
			return
		}
		sel[name] = sub
		return
	}
	child, ok := sel[name]
	if ok && child == nil {
		return // already whole
	}
	if child == nil {
		child = selector{}
		sel[name] = child
	}
	addPath(child, parts[1:], sub)
}

// apply returns v restricted to the selector. Arrays are masked element by
// element.
func (sel selector) apply(v any) any {
	if sel == nil {
		return v
	}
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, sub := range sel {
			if x, ok := t[k]; ok {
				out[k] = sub.apply(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = sel.apply(x)
		}
		return out
	}
	return v
}

// Default fields Drive v3 returns when a request has no fields parameter.
var (
	defaultFileFields   = selector{"kind": nil, "id": nil, "name": nil, "mimeType": nil}
	defaultListFields   = selector{"kind": nil, "nextPageToken": nil, "incompleteSearch": nil, "files": defaultFileFields}
	defaultChangeFields = selector{"kind": nil, "nextPageToken": nil, "newStartPageToken": nil, "changes": selector{
		"kind": nil, "changeType": nil, "time": nil, "removed": nil, "fileId": nil, "driveId": nil, "file": defaultFileFields,
	}}
)

// mask applies the request's fields parameter, or Drive's defaults when it
// is absent. A malformed mask is reported as Drive does (400 invalid).
func mask(fields string, present bool, defaults selector, v map[string]any) (any, error) {
	if !present {
		return defaults.apply(v), nil
	}
	sel, err := parseFields(fields)
	if err != nil {
		return nil, err
	}
	return sel.apply(v), nil
}
