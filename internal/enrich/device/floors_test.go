package device

// Agreement with Matomo's labels on its device-detector fixtures. Each floor is the product
// target, which Hearth meets (device type at 90.1% against 90%).
const (
	floorOS              = 97.0
	floorBrowser         = 96.0
	floorType            = 90.0
	floorBot             = 90.0
	ceilingHumansFlagged = 0.5
)
