package fswatch

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSupportedAcceptsALocalFolder(t *testing.T) {
	t.Parallel()
	if err := Supported(t.TempDir()); err != nil {
		t.Fatalf("Supported(temporary folder) = %v", err)
	}
}

func TestNetworkFileSystemsAreRecognised(t *testing.T) {
	t.Parallel()
	remote := map[string]uint32{
		"NFS": unix.NFS_SUPER_MAGIC, "SMB": unix.SMB_SUPER_MAGIC, "SMB2": unix.SMB2_SUPER_MAGIC,
		"CIFS": unix.CIFS_SUPER_MAGIC, "FUSE": unix.FUSE_SUPER_MAGIC, "9p": unix.V9FS_MAGIC,
		"CephFS": unix.CEPH_SUPER_MAGIC,
	}
	for name, magic := range remote {
		if remoteKind(magic) == "" {
			t.Errorf("%s (%#x) is taken for a local file system", name, magic)
		}
	}
	local := map[string]uint32{
		"ext4": unix.EXT4_SUPER_MAGIC, "xfs": unix.XFS_SUPER_MAGIC, "btrfs": unix.BTRFS_SUPER_MAGIC,
		"tmpfs": unix.TMPFS_MAGIC, "overlay": unix.OVERLAYFS_SUPER_MAGIC, "zfs": 0x2fc12fc1,
	}
	for name, magic := range local {
		if kind := remoteKind(magic); kind != "" {
			t.Errorf("%s (%#x) is taken for %s", name, magic, kind)
		}
	}
}

func TestMountTypeFindsTheTopmostMountOfTheDevice(t *testing.T) {
	t.Parallel()
	const info = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:45 / /mnt/remote rw,nosuid,nodev,relatime shared:20 - fuse.sshfs me@host:/photos rw,user_id=0
41 22 0:46 / /mnt/usb rw,relatime - fuseblk /dev/sdb1 rw,user_id=0
42 40 0:45 /sub /mnt/bind rw master:3 unbindable - fuse.rclone remote: rw
`
	for dev, want := range map[string]string{"0:45": "fuse.rclone", "0:46": "fuseblk", "8:1": "ext4", "0:99": ""} {
		if got := mountType(info, dev); got != want {
			t.Errorf("mountType(%s) = %q, want %q", dev, got, want)
		}
	}
}

func TestLimitErrorsAreUnsupportedAndSayWhatToDo(t *testing.T) {
	t.Parallel()
	w := &watcher{root: "/srv/photos", dirs: newDirTree(), logger: slog.New(slog.DiscardHandler)}
	cases := map[string]struct {
		err  error
		want string
	}{
		"watch limit":    {w.addFailed("a/b", syscall.ENOSPC), "fs.inotify.max_user_watches"},
		"instance limit": {initError(w.root, fmt.Errorf("couldn't initialize inotify: %w", syscall.EMFILE)), "fs.inotify.max_user_instances"},
	}
	for name, c := range cases {
		if !errors.Is(c.err, ErrUnsupported) || !strings.Contains(c.err.Error(), c.want) || !strings.Contains(c.err.Error(), w.root) {
			t.Errorf("%s: error %q, want ErrUnsupported naming %s and %s", name, c.err, w.root, c.want)
		}
	}
	if err := w.addFailed("a/b", syscall.ENOENT); err != nil {
		t.Errorf("a folder gone before its watch was added ends watching: %v", err)
	}
	if err := w.addFailed("a/b", syscall.EACCES); err != nil {
		t.Errorf("an unreadable folder ends watching: %v", err)
	}
}
