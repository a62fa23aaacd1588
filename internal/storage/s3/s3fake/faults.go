package s3fake

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Fault is an injected failure.
type Fault int

// The faults the fake can inject. Each answers the way AWS S3 does.
const (
	// Fault500 answers 500 InternalError.
	Fault500 Fault = iota + 1
	// FaultSlowDown answers 503 SlowDown (the S3 rate limit).
	FaultSlowDown
	// FaultAccessDenied answers 403 AccessDenied.
	FaultAccessDenied
	// FaultInvalidKey answers 403 InvalidAccessKeyId.
	FaultInvalidKey
	// FaultSignature answers 403 SignatureDoesNotMatch.
	FaultSignature
	// FaultDropConnection closes the connection without an answer (a
	// network error).
	FaultDropConnection
)

func (f Fault) respond(w http.ResponseWriter, r *http.Request) {
	status, code, msg := 0, "", ""
	switch f {
	case Fault500:
		status, code, msg = 500, "InternalError", "We encountered an internal error. Please try again."
	case FaultSlowDown:
		status, code, msg = 503, "SlowDown", "Please reduce your request rate."
	case FaultAccessDenied:
		status, code, msg = 403, "AccessDenied", "Access Denied"
	case FaultInvalidKey:
		status, code, msg = 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
	case FaultSignature:
		status, code, msg = 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	case FaultDropConnection:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>%s</Code><Message>%s</Message><RequestId>FAKE%08X</RequestId></Error>`, code, msg, rand.Uint32())
}

// faultTable holds injected faults, latencies and call counts.
type faultTable struct {
	mu      sync.Mutex
	next    map[Op][]Fault // queued faults for the next calls
	rate    map[Op]rateFault
	latency map[Op]time.Duration
	counts  map[Op]int
	// inFlight and maxInFlight track concurrent requests per operation.
	inFlight    map[Op]int
	maxInFlight map[Op]int
}

type rateFault struct {
	p     float64
	fault Fault
}

func newFaultTable() *faultTable {
	t := &faultTable{}
	t.clear()
	t.counts = map[Op]int{}
	t.inFlight = map[Op]int{}
	t.maxInFlight = map[Op]int{}
	return t
}

func (t *faultTable) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next = map[Op][]Fault{}
	t.rate = map[Op]rateFault{}
	t.latency = map[Op]time.Duration{}
}

func (t *faultTable) failNext(op Op, n int, f Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for range n {
		t.next[op] = append(t.next[op], f)
	}
}

func (t *faultTable) failRate(op Op, p float64, f Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p <= 0 {
		delete(t.rate, op)
		return
	}
	t.rate[op] = rateFault{p: p, fault: f}
}

func (t *faultTable) setLatency(op Op, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if d <= 0 {
		delete(t.latency, op)
		return
	}
	t.latency[op] = d
}

func (t *faultTable) calls(op Op) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if op == OpAny {
		n := 0
		for _, c := range t.counts {
			n += c
		}
		return n
	}
	return t.counts[op]
}

func (t *faultTable) resetCalls() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counts = map[Op]int{}
	t.maxInFlight = map[Op]int{}
}

func (t *faultTable) maxConcurrent(op Op) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.maxInFlight[op]
}

// enter and leave track requests in flight.
func (t *faultTable) enter(op Op) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []Op{op, OpAny} {
		t.inFlight[k]++
		t.maxInFlight[k] = max(t.maxInFlight[k], t.inFlight[k])
	}
}

func (t *faultTable) leave(op Op) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inFlight[op]--
	t.inFlight[OpAny]--
}

// decide counts a request and picks its latency and fault, if any.
func (t *faultTable) decide(op Op) (time.Duration, Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counts[op]++
	delay := t.latency[OpAny] + t.latency[op]
	for _, k := range []Op{op, OpAny} {
		if q := t.next[k]; len(q) > 0 {
			t.next[k] = q[1:]
			return delay, q[0]
		}
	}
	for _, k := range []Op{op, OpAny} {
		if rf, ok := t.rate[k]; ok && rand.Float64() < rf.p {
			return delay, rf.fault
		}
	}
	return delay, 0
}

// wrap puts the fault layer in front of h.
func (t *faultTable) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := opOf(r)
		t.enter(op)
		defer t.leave(op)
		delay, fault := t.decide(op)
		if delay > 0 {
			timer := time.NewTimer(delay)
			select {
			case <-r.Context().Done():
				timer.Stop()
				return
			case <-timer.C:
			}
		}
		if fault != 0 {
			fault.respond(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
