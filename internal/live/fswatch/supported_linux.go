package fswatch

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Magic numbers of file systems golang.org/x/sys/unix does not name.
const (
	gfs2Magic   = 0x01161970
	lustreMagic = 0x0bd00bd0
	gpfsMagic   = 0x47504653
	vboxsfMagic = 0x786f4256
)

// Supported reports whether changes under root can be watched with
// inotify. It returns an error wrapping ErrUnsupported, with the reason,
// when root lies on a network or cluster file system: inotify sees only
// changes made through this machine's kernel, not those made on the server
// or on other clients. FUSE mounts count as network mounts (sshfs, rclone
// mount, virtiofs), except block-device-backed ones (fuseblk: ntfs-3g,
// exfat-fuse), which are local disks.
func Supported(root string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return fmt.Errorf("cannot check the file system of %s: %w", root, err)
	}
	magic := uint32(st.Type) // the field's type differs by architecture
	kind := remoteKind(magic)
	if kind == "" {
		return nil
	}
	if magic == unix.FUSE_SUPER_MAGIC {
		typ := fuseType(root)
		if typ == "fuseblk" {
			return nil
		}
		if typ != "" {
			kind = fmt.Sprintf("a FUSE mount (%s)", typ)
		}
	}
	return fmt.Errorf("%w: %s is on %s, and inotify does not see changes made on other machines",
		ErrUnsupported, root, kind)
}

// remoteKind names the network or cluster file system with the statfs
// magic number, or returns "" for a local one.
func remoteKind(magic uint32) string {
	switch magic {
	case unix.NFS_SUPER_MAGIC:
		return "an NFS mount"
	case unix.SMB_SUPER_MAGIC, unix.SMB2_SUPER_MAGIC, unix.CIFS_SUPER_MAGIC:
		return "an SMB/CIFS (Windows share) mount"
	case unix.FUSE_SUPER_MAGIC:
		return "a FUSE mount (such as sshfs or rclone mount)"
	case unix.V9FS_MAGIC:
		return "a 9p mount (such as WSL's Windows drives or a virtual machine's shared folder)"
	case vboxsfMagic:
		return "a VirtualBox shared folder"
	case unix.CEPH_SUPER_MAGIC:
		return "a CephFS mount"
	case unix.AFS_SUPER_MAGIC, unix.AFS_FS_MAGIC, unix.CODA_SUPER_MAGIC:
		return "an AFS or Coda mount"
	case unix.NCP_SUPER_MAGIC:
		return "a NetWare (NCP) mount"
	case unix.OCFS2_SUPER_MAGIC, gfs2Magic, lustreMagic, gpfsMagic:
		return "a cluster file system (OCFS2, GFS2, Lustre or GPFS)"
	}
	return ""
}

// fuseType returns the mount type of the FUSE file system holding root
// ("fuse.sshfs", "fuseblk", ...), or "" if it cannot tell.
func fuseType(root string) string {
	var st unix.Stat_t
	if err := unix.Stat(root, &st); err != nil {
		return ""
	}
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	return mountType(string(info), fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)))
}

// mountType finds the file system type of the device dev ("major:minor")
// in the text of /proc/self/mountinfo. Of several mounts of the device the
// last one wins: later mounts lie on top.
func mountType(mountinfo, dev string) string {
	typ := ""
	for line := range strings.Lines(mountinfo) {
		// id parent major:minor root mount-point options [optional...] - type source super-options
		f := strings.Fields(line)
		if len(f) < 7 || f[2] != dev {
			continue
		}
		if i := slices.Index(f[6:], "-"); i >= 0 && 6+i+1 < len(f) {
			typ = f[6+i+1]
		}
	}
	return typ
}
