package device

// Agreement floors measured on the reference fixtures (see the test's log for the current
// figures); raise them as detection improves. The product targets are in docs/PERFORMANCE.md.
const (
	floorOS              = 94.0
	floorBrowser         = 96.0
	floorType            = 85.0
	floorBot             = 79.5
	ceilingHumansFlagged = 1.2
)
