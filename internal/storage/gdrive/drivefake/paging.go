package drivefake

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"
)

// pageState is what a page token encodes: where the next page starts, which
// page it is, and a hash of the request it belongs to (Drive refuses a
// token used with a different query).
type pageState struct {
	offset int
	page   int
	hash   uint64
}

func requestHash(kind string, v url.Values, keys ...string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(kind))
	for _, k := range keys {
		h.Write([]byte{0})
		h.Write([]byte(v.Get(k)))
	}
	return h.Sum64()
}

func (p pageState) token() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d:%d:%x", p.offset, p.page, p.hash)))
}

func parsePageToken(tok string, hash uint64) (pageState, error) {
	if tok == "" {
		return pageState{page: 1, hash: hash}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return pageState{}, fmt.Errorf("undecodable page token")
	}
	var p pageState
	if _, err := fmt.Sscanf(string(raw), "%d:%d:%x", &p.offset, &p.page, &p.hash); err != nil || p.hash != hash || p.offset < 0 {
		return pageState{}, fmt.Errorf("page token does not belong to this request")
	}
	return p, nil
}

// pageSize reads the pageSize parameter: Drive accepts 1..max and uses def
// when it is absent.
func pageSize(v url.Values, def, maxSize int) (int, error) {
	s := v.Get("pageSize")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("Invalid value at 'page_size' (TYPE_INT32), %q", s)
	}
	return min(n, maxSize), nil
}

// window picks the slice of n matching items the page at p shows, given
// the requested size and the server's behaviour options; next is false on
// the last page.
func (s *Server) window(p pageState, n, size int) (from, to int, next bool) {
	if s.opts.MaxPageSize > 0 {
		size = min(size, s.opts.MaxPageSize)
	}
	from = min(p.offset, n)
	if s.opts.EmptyPageEvery > 0 && p.page%s.opts.EmptyPageEvery == 0 && from < n {
		return from, from, true
	}
	to = min(from+size, n)
	return from, to, to < n
}
