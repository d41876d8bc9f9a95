package device

import (
	"regexp"
	"strings"

	"hearth/internal/event"
)

// brandPrefixes name the maker of a device from its model's prefix (lower case).
var brandPrefixes = []struct{ prefix, brand string }{
	{"sm-", "Samsung"}, {"gt-", "Samsung"}, {"sgh-", "Samsung"}, {"sch-", "Samsung"}, {"shv-", "Samsung"},
	{"sph-", "Samsung"}, {"shw-", "Samsung"}, {"ek-g", "Samsung"}, {"galaxy", "Samsung"},
	{"pixel", "Google"}, {"nexus", "Google"},
	{"redmi", "Xiaomi"}, {"mi ", "Xiaomi"}, {"poco", "POCO"}, {"mix ", "Xiaomi"},
	{"moto", "Motorola"}, {"xt1", "Motorola"}, {"xt2", "Motorola"}, {"mot-", "Motorola"},
	{"ta-1", "Nokia"}, {"lumia", "Nokia"},
	{"lm-", "LG"}, {"lg-", "LG"}, {"lgl", "LG"}, {"lgms", "LG"}, {"lgus", "LG"}, {"xperia", "Sony"},
	{"rmx", "Realme"}, {"kindle", "Amazon"}, {"kf", "Amazon"}, {"aft", "Amazon"},
	{"camon", "Tecno Mobile"}, {"spark ", "Tecno Mobile"}, {"pova", "Tecno Mobile"}, {"phantom", "Tecno Mobile"},
	{"zenfone", "Asus"}, {"asus_", "Asus"},
	// Makers' names run together with the model ("vivoX21"): after brandNames, which needs a
	// separator.
	{"xiaomi", "Xiaomi"}, {"nokia", "Nokia"}, {"oneplus", "OnePlus"}, {"huawei", "Huawei"}, {"honor", "Honor"},
	{"vivo", "Vivo"}, {"oppo", "OPPO"}, {"lenovo", "Lenovo"}, {"samsung", "Samsung"},
}

// brandNames are makers whose model names begin with the maker's own name ("TECNO KA6",
// "Lenovo TB-X606F", "HTC_One_max", "ZTE A2121E"), by that first word in lower case.
var brandNames = map[string]string{
	"alcatel": "Alcatel", "archos": "Archos", "asus": "Asus", "blackberry": "BlackBerry", "blackview": "Blackview",
	"blu": "BLU", "bq": "bq", "coolpad": "Coolpad", "cubot": "Cubot", "doogee": "DOOGEE", "fairphone": "Fairphone",
	"gionee": "Gionee", "google": "Google", "hisense": "Hisense", "honor": "Honor", "htc": "HTC", "huawei": "Huawei",
	"infinix": "Infinix", "itel": "itel", "kyocera": "Kyocera", "lava": "Lava", "lenovo": "Lenovo", "lg": "LG",
	"meizu": "Meizu", "micromax": "Micromax", "motorola": "Motorola", "nokia": "Nokia", "nothing": "Nothing",
	"oneplus": "OnePlus", "oppo": "OPPO", "oukitel": "Oukitel", "panasonic": "Panasonic", "philips": "Philips",
	"prestigio": "Prestigio", "realme": "Realme", "samsung": "Samsung", "sharp": "Sharp", "sony": "Sony",
	"tcl": "TCL", "tecno": "Tecno Mobile", "ulefone": "Ulefone", "umidigi": "UMIDIGI", "vivo": "Vivo",
	"wiko": "Wiko", "xiaomi": "Xiaomi", "zte": "ZTE",
}

// brandCodes are model-code conventions of makers whose models do not carry their name.
var brandCodes = []struct {
	re    *regexp.Regexp
	brand string
}{
	{regexp.MustCompile(`^(SC-\d\d[A-Z]|SCV\d\d|SCG\d\d)$`), "Samsung"},                   // Japanese carriers' Galaxy models
	{regexp.MustCompile(`^M?2[0-4](0[1-9]|1[0-2])[0-9A-Z]{3,7}$`), "Xiaomi"},              // year and month of release: M2006C3LG, 2107113SG
	{regexp.MustCompile(`^[VI][12]\d{3}[A-Z]{0,2}$`), "Vivo"},                             // V2229A, I2012
	{regexp.MustCompile(`^(CPH\d{4}|P[A-H][A-Z]{2}\d{2})$`), "OPPO"},                      // CPH2185, PDCM00
	{regexp.MustCompile(`^(GM19|HD19|IN20|KB20|LE21|NE22)\d\d$`), "OnePlus"},              // GM1913, KB2003
	{regexp.MustCompile(`^[A-Z]{3}-(A?L|TL|LX|N|W|AN|NX)\d{1,2}[A-Z]?$`), "Huawei"},       // VOG-L29, MAR-LX1A
	{regexp.MustCompile(`^(SO-\d\d[A-Z]|SOV\d\d|SOG\d\d|A?\d{3}SO|[C-J]\d{4})$`), "Sony"}, // SO-41A, A302SO, G8341
	{regexp.MustCompile(`^(SH-\d\d[A-Z]|SHV\d\d|SHG\d\d|A?\d{3}SH)$`), "Sharp"},
	{regexp.MustCompile(`^(KYV\d\d|KY-\d\d[A-Z]|A?\d{3}KC)$`), "Kyocera"},
	{regexp.MustCompile(`^A?\d{3}ZT$`), "ZTE"},
	{regexp.MustCompile(`^(XT\d{3,4}|MB\d{3})[A-Z]?$`), "Motorola"},
	{regexp.MustCompile(`^TB-?[0-9X]\d{2,}`), "Lenovo"},                                  // TB-X606F
	{regexp.MustCompile(`^((ZB|ZC|ZE|ZS|ZD)\d{3}[A-Z]{2}|[XZI]00[0-9A-Z]{2})$`), "Asus"}, // ZC554KL, X00TD
	{regexp.MustCompile(`^(OT-)?\d{4}[A-Z]{1,2}$`), "Alcatel"},                           // 5086A, 4063T
}

// brandOf names the maker of a device model, from its own name, its prefix or its maker's
// code conventions; "" when none tells.
func brandOf(model string) string {
	model = strings.TrimSpace(model)
	if model == "" {
		return ""
	}
	l := strings.ToLower(model)
	first := l
	if i := strings.IndexAny(l, " _-"); i > 0 {
		first = l[:i]
	}
	if b, ok := brandNames[first]; ok && len(first) < len(l) {
		return b
	}
	for _, b := range brandPrefixes {
		if strings.HasPrefix(l, b.prefix) {
			return b.brand
		}
	}
	for _, c := range brandCodes {
		if c.re.MatchString(model) {
			return c.brand
		}
	}
	return ""
}

// uaBrands are makers a user agent names outside a model: consoles, TV platforms, build tags.
var uaBrands = []struct{ marker, brand string }{
	{"Build/HUAWEI", "Huawei"}, {"Build/HONOR", "Honor"}, {"PlayStation", "Sony"}, {"BRAVIA", "Sony"},
	{"Nintendo", "Nintendo"}, {"Xbox", "Microsoft"}, {"Web0S", "LG"}, {"webOS.TV", "LG"}, {"NetCast", "LG"},
	{"SMART-TV; Linux; Tizen", "Samsung"}, {"SmartTV; Tizen", "Samsung"}, {"Roku/", "Roku"}, {"CrKey", "Google"},
	{"BlackBerry", "BlackBerry"}, {"BB10", "BlackBerry"}, {"Kindle", "Amazon"}, {"Silk/", "Amazon"},
}

// brandModel names the maker and model the user agent reveals: Apple's devices by name, an
// Android device's model as it writes it and its maker by the model's name or code. Client
// hints, applied after, may name the model more precisely.
func brandModel(d *event.Device, ua string) {
	switch {
	case strings.Contains(ua, "iPhone"):
		d.Brand, d.Model = "Apple", "iPhone"
	case strings.Contains(ua, "iPad"):
		d.Brand, d.Model = "Apple", "iPad"
	case strings.Contains(ua, "iPod"):
		d.Brand, d.Model = "Apple", "iPod Touch"
	case strings.Contains(ua, "AppleTV") || strings.Contains(ua, "tvOS"):
		d.Brand, d.Model = "Apple", "Apple TV"
	case strings.Contains(ua, "watchOS") || strings.HasPrefix(ua, "Watch"):
		d.Brand, d.Model = "Apple", "Apple Watch"
	case strings.Contains(ua, "Macintosh") || strings.Contains(ua, "Darwin/") || strings.Contains(ua, "CFNetwork/") ||
		d.OS == "iOS" || d.OS == "Mac" || d.OS == "iPadOS":
		d.Brand = "Apple" // Apple's own platforms and their apps' network library
	case d.OS == "Android":
		if m := androidModel.FindStringSubmatch(ua); m != nil && m[1] != "K" && !strings.EqualFold(m[1], "wv") && !strings.HasPrefix(m[1], "Linux") {
			// Chrome's reduced user agent says "K": no model (client hints may name it).
			d.Model = strings.TrimSpace(m[1])
			d.Brand = brandOf(d.Model)
		}
	}
	if d.Brand == "" {
		for _, b := range uaBrands {
			if strings.Contains(ua, b.marker) {
				d.Brand = b.brand
				break
			}
		}
	}
}
