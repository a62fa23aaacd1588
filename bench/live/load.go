package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Load generation shared by the burst and the flood.

// s3EventBody is an S3 event notification with one record, as AWS and
// MinIO send it.
func s3EventBody(bucket, event, key string) []byte {
	b, _ := json.Marshal(map[string]any{"Records": []map[string]any{{
		"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": event,
		"s3": map[string]any{"bucket": map[string]any{"name": bucket},
			"object": map[string]any{"key": strings.ReplaceAll(key, " ", "+"), "size": 1}},
	}}})
	return b
}

// paced calls fn(0) … fn(total-1) from workers goroutines, the k-th not
// before start + k/rate; it returns when all returned.
func paced(total, rate, workers int, fn func(k int)) time.Duration {
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= total {
					return
				}
				if d := time.Until(start.Add(time.Duration(k) * time.Second / time.Duration(rate))); d > 0 {
					time.Sleep(d)
				}
				fn(k)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// statusCounts counts HTTP answers by status (0: no answer).
type statusCounts struct {
	mu sync.Mutex
	m  map[int]int
}

func (s *statusCounts) add(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[int]int{}
	}
	s.m[code]++
}

func (s *statusCounts) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for _, code := range []int{200, 400, 404, 413, 429, 500, 503, 0} {
		if n := s.m[code]; n > 0 {
			name := fmt.Sprint(code)
			if code == 0 {
				name = "no answer"
			}
			parts = append(parts, fmt.Sprintf("%s: %d", name, n))
		}
	}
	for code, n := range s.m {
		switch code {
		case 200, 400, 404, 413, 429, 500, 503, 0:
		default:
			parts = append(parts, fmt.Sprintf("%d: %d", code, n))
		}
	}
	return strings.Join(parts, ", ")
}

func postEvent(hc *http.Client, url string, body []byte) int {
	resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func eventClient(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
}
