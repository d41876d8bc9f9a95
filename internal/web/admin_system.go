package web

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"hearth/internal/requestid"
)

// Check is one dependency the server needs, as /readyz checks it.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// SystemInfo is what the system page shows beyond the version: the readiness checks (the
// same list as /readyz), where the data lives and how it is encrypted at rest.
type SystemInfo struct {
	Ready []Check
	// DataDir is the data directory holding the stores.
	DataDir string
	// MetaEncrypted: the metadata store's file is encrypted (AES-XTS keyed by the secret).
	MetaEncrypted bool
	// VolumeEncryption is how the data directory's volume is encrypted as far as the server
	// can tell: "fscrypt", "dm-crypt", "no", or "unknown" ("" when not detected).
	VolumeEncryption string
}

type healthRow struct {
	Name string
	OK   bool
}

type storeSize struct {
	Key   string // message key of what it is
	Files string // the files it is, for the operator
	Size  string
}

type systemPage struct {
	adminFrame
	Health               []healthRow
	DataDir              string
	Stores               []storeSize
	Free, Total          string
	DiskKnown            bool
	MetaEncrypted        bool
	Volume               string // fscrypt, dm-crypt, no, unknown
	Version, GoVersion   string
	Uptime, Started      string
	ChecksRun, AllHealth bool
}

// storeFiles are the stores of the data directory, by the names cli gives their files.
var storeFiles = []struct{ key, files string }{
	{"admin.system.meta", "meta.db*"},
	{"admin.system.events", "events.duckdb*"},
	{"admin.system.spool", "spool"},
	{"admin.system.audithead", "audit.head"},
}

// systemAdmin serves /admin/system for superusers: the health of each dependency (the checks of
// /readyz), the stores' sizes and the free disk space, encryption at rest, version and uptime.
func (w *Web) systemAdmin(rw http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed("GET")
	}
	p, err := w.signedIn(r)
	if err != nil {
		return err
	}
	af, err := w.newAdminFrame(r, p, "admin.system.title", "system")
	if err != nil {
		return err
	}
	if !p.IsSuperuser() {
		return adminForbidden("admin.err.superuser")
	}
	l := af.L
	page := systemPage{adminFrame: af, DataDir: w.system.DataDir, MetaEncrypted: w.system.MetaEncrypted, Volume: w.system.VolumeEncryption,
		Version: w.version, GoVersion: runtime.Version(), Started: l.Time(w.started.UTC()) + " UTC"}
	if page.Version == "" {
		page.Version = l.Text("admin.system.version_unknown")
	}
	if page.Volume == "" {
		page.Volume = "unknown"
	}
	page.Uptime = uptime(l, w.now().Sub(w.started))
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	page.AllHealth = true
	for _, c := range w.system.Ready {
		err := c.Check(ctx)
		if err != nil {
			// The detail goes to the log only, as /readyz does.
			w.log.Warn("not ready", "dependency", c.Name, "request_id", requestid.From(r.Context()), "err", err)
		}
		page.Health = append(page.Health, healthRow{Name: c.Name, OK: err == nil})
		page.AllHealth = page.AllHealth && err == nil
	}
	page.ChecksRun = len(page.Health) > 0
	if dir := w.system.DataDir; dir != "" {
		for _, s := range storeFiles {
			n, err := sizeOf(dir, s.files)
			if err != nil {
				return fmt.Errorf("size of %s: %w", s.files, err)
			}
			page.Stores = append(page.Stores, storeSize{Key: s.key, Files: s.files, Size: formatBytes(l, n)})
		}
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err == nil {
			bs := uint64(max(st.Bsize, 0))
			page.Free, page.Total, page.DiskKnown = formatBytes(l, clampInt64(st.Bavail*bs)), formatBytes(l, clampInt64(st.Blocks*bs)), true
		}
	}
	return w.renderPage(rw, http.StatusOK, "admin_system.html", page)
}

// sizeOf adds up the sizes of the files matching pattern in dir, and of everything under the
// directories among them.
func sizeOf(dir, pattern string) (int64, error) {
	matches, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return 0, err
	}
	var total int64
	for _, m := range matches {
		err := filepath.WalkDir(m, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil // a file that went meanwhile (a WAL checkpointed away)
				}
				return err
			}
			if d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					total += info.Size()
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return total, nil
}

// formatBytes shows a size in binary units with the language's decimal sign.
func formatBytes(l *locale, n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f, i = f/1024, i+1
	}
	if i == 0 {
		return l.Num(n) + " B"
	}
	return l.p.Sprintf("%.1f", f) + " " + units[i]
}

// uptime shows how long the server has run: days and hours, or hours and minutes.
func uptime(l *locale, d time.Duration) string {
	if d < 0 {
		d = 0
	}
	days, h, m := int(d.Hours())/24, int(d.Hours())%24, int(d.Minutes())%60
	if days > 0 {
		return l.p.Sprintf(l.Or("admin.system.dayshours", "%d d %d h"), days, h)
	}
	return l.Duration(int64(h*3600 + m*60 + int(d.Seconds())%60))
}

// clampInt64 is a byte count as an int64, at most the largest one.
func clampInt64(n uint64) int64 {
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}
