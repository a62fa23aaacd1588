// Package fswatch tells the sync engine which paths of a local folder
// changed, so that a sync re-reads those paths instead of listing the whole
// folder. It is Shelf's live sync for local-folder storage (localfs).
//
// [Watch] watches a root folder and all folders under it with inotify and
// sends debounced batches of dirty paths: root-relative, '/'-separated paths
// in the form storage.CleanPath accepts. A dirty path means "re-read this
// path, and its subtree if it is (or was) a folder"; the watcher does not
// say what happened there, and it reports any dirty path whatever it now
// holds, because a name that now holds a pipe may have held a listed file a
// moment before. The re-read applies the connector's listing rules.
//
// The watcher follows the local connector's scan (localfs.ScanSorted): it
// never reports or looks inside names the scan skips (Put's temporary
// ".shelf-tmp-" files, names storage.CheckName refuses), never follows a
// symbolic link and so never watches outside the root. A write to a pipe,
// socket or device is ignored; a write to a file or a link is not.
//
// When it cannot be sure, it says so: a batch with Overflow set means events
// were lost (the kernel's queue overflowed) or too many paths changed at
// once, and the caller must list everything. An error return means the same
// for everything since the last batch.
//
// # What inotify cannot see
//
// inotify reports changes made through this machine's kernel only, and only
// for folders it watches. The caller still reconciles with a full listing
// from time to time, because the watcher misses:
//
//   - changes made on another machine to a network or cluster file system
//     (NFS, SMB, sshfs and other FUSE mounts, 9p, CephFS): [Supported] and
//     Watch refuse those with [ErrUnsupported], and the caller polls;
//   - writes through a shared memory mapping (mmap), which raise no event;
//   - a change to the target of a symbolic link: the target's own path is
//     reported if it lies inside the root, the link's path is not;
//   - changes inside a folder Shelf may not read (no watch can be added; the
//     folder is reported when its permissions change);
//   - a folder's own modification time and permissions: only what it holds
//     is tracked.
//
// Files written slowly are reported more than once: a batch goes out at
// the latest MaxDelay after its first change even while a file is still
// being written, and the later writes make it dirty again.
//
// The root folder removed, renamed or unmounted ends Watch with
// [ErrRootGone]; a rename of a folder above the root is noticed at the next
// batch or within ten seconds.
package fswatch
