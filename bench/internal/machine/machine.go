// Package machine describes the machine a benchmark runs on, for the
// figures it prints: the benchmarks run on shared machines, where other
// processes skew wall times.
package machine

import (
	"os"
	"strings"
)

// LoadAverage is the 1, 5 and 15 minute load average as uptime prints it
// (Linux), "unknown" where /proc/loadavg is absent.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
