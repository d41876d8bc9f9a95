package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A fake /sys and /dev in a temp dir, laid out as Linux lays out device-mapper stacks.
func fakeBlock(t *testing.T) (root string) {
	t.Helper()
	root = t.TempDir()
	mk := func(path, content string) {
		t.Helper()
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if content != "-" {
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		} else if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// dm-0: LUKS on vda2; dm-1: an LVM volume on dm-0 (Debian's "encrypted LVM" install);
	// dm-2: an LVM volume straight on vdb; vda1: a plain partition.
	mk("sys/class/block/dm-0/dm/uuid", "CRYPT-LUKS2-0123456789abcdef-vda2_crypt\n")
	mk("sys/class/block/dm-0/slaves/vda2", "-")
	mk("sys/class/block/dm-1/dm/uuid", "LVM-abcdefabcdef\n")
	mk("sys/class/block/dm-1/slaves/dm-0", "-")
	mk("sys/class/block/dm-2/dm/uuid", "LVM-fedcbafedcba\n")
	mk("sys/class/block/dm-2/slaves/vdb", "-")
	mk("sys/class/block/vda1/partition", "1\n")
	mk("sys/class/block/vda2/partition", "2\n")
	for _, d := range []string{"dm-0", "dm-1", "dm-2", "vda1", "vdb"} {
		mk("dev/"+d, "")
	}
	if err := os.MkdirAll(filepath.Join(root, "dev/mapper"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"vda2_crypt": "../dm-0", "vg-root": "../dm-1", "plain-srv": "../dm-2"} {
		if err := os.Symlink(target, filepath.Join(root, "dev/mapper", name)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestDetectEncryption(t *testing.T) {
	root := fakeBlock(t)
	dev := filepath.Join(root, "dev")
	mounts := filepath.Join(root, "mounts")
	table := "" +
		dev + "/vda1 / ext4 rw,relatime 0 0\n" +
		"tmpfs /tmp tmpfs rw 0 0\n" +
		dev + "/mapper/vg-root /srv ext4 rw 0 0\n" +
		dev + "/mapper/vda2_crypt /srv/direct ext4 rw 0 0\n" +
		dev + "/mapper/plain-srv /var/lib/plain ext4 rw 0 0\n" +
		dev + `/mapper/vg-root /var/lib/with\040space ext4 rw 0 0` + "\n" +
		dev + "/missing /mnt/gone ext4 rw 0 0\n" +
		"overlay /var/lib/container overlay rw,lowerdir=/a,upperdir=/b 0 0\n" +
		"files.example:/export /mnt/nfs nfs4 rw 0 0\n"
	if err := os.WriteFile(mounts, []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	sys := filepath.Join(root, "sys")
	for _, c := range []struct{ dir, want string }{
		{"/var/lib/hearth", "no"},                  // a plain partition
		{"/srv/hearth", "dm-crypt"},                // LVM on LUKS: found through the slaves
		{"/srv/direct/hearth", "dm-crypt"},         // LUKS itself; the longest mount point wins
		{"/srv/directory", "dm-crypt"},             // /srv/direct is not a prefix of it as a path
		{"/var/lib/plain/hearth", "no"},            // LVM without encryption
		{"/var/lib/with space/hearth", "dm-crypt"}, // an escaped mount point
		{"/tmp/hearth", "no"},                      // tmpfs: not a block device
		{"/mnt/gone/hearth", "unknown"},            // a source that is no device node here ("/dev/root")
		{"/var/lib/container/hearth", "unknown"},   // overlay: the layers below are not visible
		{"/mnt/nfs/hearth", "unknown"},             // another machine's disk
	} {
		if got := detectEncryption(c.dir, mounts, sys); got != c.want {
			t.Errorf("%s: got %q, want %q", c.dir, got, c.want)
		}
	}
	if got := detectEncryption("/srv/hearth", filepath.Join(root, "no-mounts"), sys); got != "unknown" {
		t.Errorf("without a mount table: got %q, want unknown", got)
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		`/plain`:            "/plain",
		`/with\040space`:    "/with space",
		`/tab\011and\134bs`: "/tab\tand\\bs",
		`/short\04`:         `/short\04`,
		`/not\x41octal`:     `/not\x41octal`,
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDetectFscrypt mounts a real ext4 filesystem with the encrypt feature, encrypts a
// directory with fscrypt and checks that the data dir is seen as encrypted, and that an
// unencrypted directory beside it is not.
func TestDetectFscrypt(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a loop filesystem needs root")
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		t.Skip("mkfs.ext4 (e2fsprogs) is not installed")
	}
	work := t.TempDir()
	img, mnt := filepath.Join(work, "fs.img"), filepath.Join(work, "mnt")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-O", "encrypt", img).CombinedOutput(); err != nil { // #nosec G204 -- a fixed tool on a temp file
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil { // #nosec G204 -- a fixed tool on temp paths
		t.Fatalf("mount: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})

	root, err := os.Open(mnt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() }) // before the unmount, registered earlier
	var add struct {
		arg unix.FscryptAddKeyArg
		raw [64]byte
	}
	add.arg.Key_spec.Type = unix.FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER
	add.arg.Raw_size = uint32(len(add.raw))
	for i := range add.raw {
		add.raw[i] = byte(i*7 + 1)
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, root.Fd(), unix.FS_IOC_ADD_ENCRYPTION_KEY, uintptr(unsafe.Pointer(&add))); e != 0 { // #nosec G103 -- the fscrypt ioctl takes this struct
		t.Fatalf("add fscrypt key: %v", e)
	}
	enc := filepath.Join(mnt, "hearth")
	if err := os.Mkdir(enc, 0o700); err != nil {
		t.Fatal(err)
	}
	d, err := os.Open(enc)
	if err != nil {
		t.Fatal(err)
	}
	policy := unix.FscryptPolicyV2{
		Version:                   unix.FSCRYPT_POLICY_V2,
		Contents_encryption_mode:  unix.FSCRYPT_MODE_AES_256_XTS,
		Filenames_encryption_mode: unix.FSCRYPT_MODE_AES_256_CTS,
		Flags:                     unix.FSCRYPT_POLICY_FLAGS_PAD_32,
	}
	copy(policy.Master_key_identifier[:], add.arg.Key_spec.U[:16])
	_, _, e := unix.Syscall(unix.SYS_IOCTL, d.Fd(), unix.FS_IOC_SET_ENCRYPTION_POLICY, uintptr(unsafe.Pointer(&policy))) // #nosec G103 -- the fscrypt ioctl takes this struct
	d.Close()
	if e != 0 {
		t.Fatalf("set fscrypt policy: %v", e)
	}
	data := filepath.Join(enc, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(mnt, "plain")
	if err := os.Mkdir(plain, 0o700); err != nil {
		t.Fatal(err)
	}
	if got := volumeEncryption(data); got != "fscrypt" {
		t.Errorf("data dir in an fscrypt directory: got %q, want fscrypt", got)
	}
	if got := volumeEncryption(plain); got != "no" {
		t.Errorf("unencrypted directory on a loop device: got %q, want no", got)
	}
	// Lock the key away again and close the root before the unmount.
	var rm unix.FscryptRemoveKeyArg
	rm.Key_spec = add.arg.Key_spec
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, root.Fd(), unix.FS_IOC_REMOVE_ENCRYPTION_KEY, uintptr(unsafe.Pointer(&rm))); e != 0 { // #nosec G103 -- the fscrypt ioctl takes this struct
		t.Errorf("remove fscrypt key: %v", e)
	}
	root.Close()
}
