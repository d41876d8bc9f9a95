package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// volumeEncryption tells how the data dir is encrypted at rest, as far as Linux shows it:
// "fscrypt" when the filesystem encrypts the directory itself, "dm-crypt" when the
// filesystem sits on a dm-crypt device (directly, or under LVM or other device-mapper
// layers, as encrypted installs usually set it up), "no", or "unknown".
func volumeEncryption(dir string) string {
	return detectEncryption(dir, "/proc/self/mounts", "/sys")
}

func detectEncryption(dir, mounts, sys string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "unknown"
	}
	if fscrypted(abs) {
		return "fscrypt"
	}
	dev, fstype := mountDevice(abs, mounts)
	switch {
	case dev == "":
		return "unknown"
	case fstype == "tmpfs" || fstype == "ramfs":
		return "no" // memory: nothing at rest (swap aside)
	case !strings.HasPrefix(dev, "/"):
		return "unknown" // overlay, a network filesystem: the layers below are not visible here
	}
	real, err := filepath.EvalSymlinks(dev)
	if err != nil {
		return "unknown" // a source that is no device node here ("/dev/root")
	}
	if cryptBacked(sys, filepath.Base(real), 0) {
		return "dm-crypt"
	}
	return "no"
}

// fscrypted reports whether the kernel marks dir as encrypted by its filesystem (ext4, f2fs,
// ubifs with fscrypt).
func fscrypted(dir string) bool {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, dir, unix.AT_STATX_SYNC_AS_STAT, unix.STATX_BASIC_STATS, &st); err != nil {
		return false
	}
	return st.Attributes_mask&unix.STATX_ATTR_ENCRYPTED != 0 && st.Attributes&unix.STATX_ATTR_ENCRYPTED != 0
}

// mountDevice is the source and filesystem type of the mount that holds dir (the longest
// mount point above it).
func mountDevice(dir, mounts string) (dev, fstype string) {
	f, err := os.Open(mounts)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	best := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		mp := unescapeMount(fields[1])
		if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) >= len(best) {
			best, dev, fstype = mp, unescapeMount(fields[0]), fields[2]
		}
	}
	return dev, fstype
}

// unescapeMount undoes the octal escapes /proc/self/mounts uses for spaces, tabs, newlines
// and backslashes in paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// cryptBacked reports whether block device name is a dm-crypt mapping or is built on one,
// following the device-mapper stack down through its slaves.
func cryptBacked(sys, name string, depth int) bool {
	if depth > 16 || name == "" || strings.ContainsAny(name, "/\\") || name == ".." {
		return false
	}
	dev := filepath.Join(sys, "class", "block", name)
	if uuid, err := os.ReadFile(filepath.Join(dev, "dm", "uuid")); err == nil && strings.HasPrefix(string(uuid), "CRYPT-") {
		return true
	}
	slaves, err := os.ReadDir(filepath.Join(dev, "slaves"))
	if err != nil {
		return false
	}
	for _, s := range slaves {
		if cryptBacked(sys, s.Name(), depth+1) {
			return true
		}
	}
	return false
}
