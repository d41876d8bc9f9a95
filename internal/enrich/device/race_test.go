//go:build race

package device

// raceDetector is true in builds with the race detector, whose instrumentation makes the
// cost figures meaningless: the cost limits are then reported, not enforced.
const raceDetector = true
