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

// Brand has no product target: Matomo names brands from a model database Hearth does not
// copy. These floors guard what Hearth's own naming rules reach, and that a brand it does
// name is seldom wrong.
const (
	floorBrand      = 30.0
	floorBrandNamed = 90.0
)
