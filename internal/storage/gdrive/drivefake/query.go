package drivefake

import (
	"fmt"
	"strings"
)

// query is a parsed files.list "q" expression. It supports the subset of
// Drive's query language connectors use: "'id' in parents", "trashed = ",
// "mimeType =/!=", "name =/!=", combined with and, or, not and parentheses.
type query struct {
	root node
	// parents lists the parent IDs when the whole query requires the
	// file's parent to be one of them (a parents disjunction AND-ed with
	// other terms), so the fake can look only at those folders' children.
	parents []string
	// orParents counts "in parents" terms that appear under an "or".
	orParents int
}

type node interface {
	match(f *file) bool
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ n node }
type inParents struct{ id string }
type cmpNode struct {
	field, op string
	str       string
	b         bool
}

func (n andNode) match(f *file) bool   { return n.l.match(f) && n.r.match(f) }
func (n orNode) match(f *file) bool    { return n.l.match(f) || n.r.match(f) }
func (n notNode) match(f *file) bool   { return !n.n.match(f) }
func (n inParents) match(f *file) bool { return f.parent == n.id }

func (n cmpNode) match(f *file) bool {
	var eq bool
	switch n.field {
	case "trashed":
		eq = f.trashed == n.b
	case "mimeType":
		eq = f.mime == n.str
	case "name":
		// Drive compares names without regard to case; callers must
		// filter the exact name themselves.
		eq = strings.EqualFold(f.name, n.str)
	}
	if n.op == "!=" {
		return !eq
	}
	return eq
}

// parseQuery parses a q parameter; "" matches everything.
func parseQuery(q string) (*query, error) {
	if strings.TrimSpace(q) == "" {
		return &query{}, nil
	}
	toks, err := tokenize(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	res := &query{root: root}
	res.parents, _ = parentSet(root)
	res.orParents = countOrParents(root, false)
	return res, nil
}

func (q *query) match(f *file) bool { return q.root == nil || q.root.match(f) }

// resolveRoot rewrites "'root' in parents" to My Drive's real root ID, as
// Drive accepts the alias in queries.
func (q *query) resolveRoot(rootID string) {
	q.root = rewriteRoot(q.root, rootID)
	for i, p := range q.parents {
		if p == "root" {
			q.parents[i] = rootID
		}
	}
}

func rewriteRoot(n node, rootID string) node {
	switch t := n.(type) {
	case inParents:
		if t.id == "root" {
			return inParents{id: rootID}
		}
	case andNode:
		return andNode{rewriteRoot(t.l, rootID), rewriteRoot(t.r, rootID)}
	case orNode:
		return orNode{rewriteRoot(t.l, rootID), rewriteRoot(t.r, rootID)}
	case notNode:
		return notNode{rewriteRoot(t.n, rootID)}
	}
	return n
}

// parentSet returns the parent IDs a node restricts files to, if it does.
func parentSet(n node) ([]string, bool) {
	switch n := n.(type) {
	case inParents:
		return []string{n.id}, true
	case orNode:
		l, okl := parentSet(n.l)
		r, okr := parentSet(n.r)
		if okl && okr {
			return append(l, r...), true
		}
	case andNode:
		if l, ok := parentSet(n.l); ok {
			return l, true
		}
		return parentSet(n.r)
	}
	return nil, false
}

func countOrParents(n node, underOr bool) int {
	switch n := n.(type) {
	case inParents:
		if underOr {
			return 1
		}
	case orNode:
		return countOrParents(n.l, true) + countOrParents(n.r, true)
	case andNode:
		return countOrParents(n.l, underOr) + countOrParents(n.r, underOr)
	case notNode:
		return countOrParents(n.n, underOr)
	}
	return 0
}

type token struct {
	kind string // "str", "word", "op", "(", ")"
	text string
}

func tokenize(q string) ([]token, error) {
	var toks []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')':
			toks = append(toks, token{kind: string(c), text: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			i++
			closed := false
			for i < len(q) {
				if q[i] == '\\' && i+1 < len(q) {
					b.WriteByte(q[i+1])
					i += 2
					continue
				}
				if q[i] == '\'' {
					closed = true
					i++
					break
				}
				b.WriteByte(q[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string")
			}
			toks = append(toks, token{kind: "str", text: b.String()})
		case c == '=':
			toks = append(toks, token{kind: "op", text: "="})
			i++
		case c == '!' && i+1 < len(q) && q[i+1] == '=':
			toks = append(toks, token{kind: "op", text: "!="})
			i += 2
		default:
			j := i
			for j < len(q) && strings.IndexByte(" \t\n()='!", q[j]) < 0 {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected character %q", c)
			}
			toks = append(toks, token{kind: "word", text: q[i:j]})
			i = j
		}
	}
	return toks, nil
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peekWord(w string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == "word" && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *parser) next() (token, error) {
	if p.pos >= len(p.toks) {
		return token{}, fmt.Errorf("unexpected end of query")
	}
	t := p.toks[p.pos]
	p.pos++
	return t, nil
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	if p.peekWord("not") {
		p.pos++
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case "(":
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c, err := p.next(); err != nil || c.kind != ")" {
			return nil, fmt.Errorf("missing )")
		}
		return n, nil
	case "str":
		if !p.peekWord("in") {
			return nil, fmt.Errorf("expected 'in' after %q", t.text)
		}
		p.pos++
		if !p.peekWord("parents") {
			return nil, fmt.Errorf("only 'in parents' is supported")
		}
		p.pos++
		return inParents{id: t.text}, nil
	case "word":
		return p.comparison(t.text)
	}
	return nil, fmt.Errorf("unexpected %q", t.text)
}

func (p *parser) comparison(field string) (node, error) {
	op, err := p.next()
	if err != nil {
		return nil, err
	}
	if op.kind != "op" {
		return nil, fmt.Errorf("expected an operator after %s", field)
	}
	v, err := p.next()
	if err != nil {
		return nil, err
	}
	switch field {
	case "trashed":
		if v.kind != "word" || (v.text != "true" && v.text != "false") {
			return nil, fmt.Errorf("trashed takes true or false")
		}
		return cmpNode{field: field, op: op.text, b: v.text == "true"}, nil
	case "mimeType", "name":
		if v.kind != "str" {
			return nil, fmt.Errorf("%s takes a quoted string", field)
		}
		return cmpNode{field: field, op: op.text, str: v.text}, nil
	}
	return nil, fmt.Errorf("unsupported field %q", field)
}
