package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

// Each setup starts a fresh Shelf, signs up one account, connects its
// storage (holding benchFolders) and waits until it is watched live.

func setupLocal(ctx context.Context, o options) (*rig, error) {
	sh, err := startShelf(ctx, o.server(true, nil, ""))
	if err != nil {
		return nil, err
	}
	root := filepath.Join(sh.local, "lib")
	for _, f := range benchFolders {
		if err := os.MkdirAll(filepath.Join(root, f), 0o755); err != nil {
			sh.close()
			return nil, err
		}
	}
	r, err := connectRig(ctx, sh, "local", map[string]any{"kind": "local", "path": root})
	if err != nil {
		sh.close()
		return nil, err
	}
	r.ch = localChanger{root}
	return r, nil
}

// connectRig signs up an account on sh and connects its storage.
func connectRig(ctx context.Context, sh *shelf, name string, storageBody map[string]any) (*rig, error) {
	c, acct, err := signup(sh.url, name+"@bench.example", "Bench "+name)
	if err != nil {
		return nil, err
	}
	if err := c.connect(ctx, sh, acct, storageBody); err != nil {
		return nil, err
	}
	mode, err := c.waitLive(ctx)
	if err != nil {
		return nil, err
	}
	return &rig{sh: sh, c: c, acct: acct, mode: mode, close: sh.close}, nil
}

type localChanger struct{ root string }

func (l localChanger) add(_ context.Context, p string) error {
	return os.WriteFile(filepath.Join(l.root, p), []byte("bench "+p), 0o644)
}

func (l localChanger) move(_ context.Context, from, to string) error {
	return os.Rename(filepath.Join(l.root, from), filepath.Join(l.root, to))
}

func (l localChanger) remove(_ context.Context, p string) error {
	return os.Remove(filepath.Join(l.root, p))
}

// connChanger changes a storage through Shelf's own connector of it.
type connChanger struct{ conn storage.Connector }

func (s connChanger) add(ctx context.Context, p string) error {
	body := []byte("bench " + p)
	_, err := s.conn.Put(ctx, p, bytes.NewReader(body), int64(len(body)), "text/plain")
	return err
}

func (s connChanger) move(ctx context.Context, from, to string) error {
	_, err := s.conn.Move(ctx, from, to)
	return err
}

func (s connChanger) remove(ctx context.Context, p string) error { return s.conn.Delete(ctx, p) }

const (
	vgwAccess = "shelfbench"
	vgwSecret = "shelfbenchsecret"
)

// versitygw is a versitygw process serving a posix root.
type versitygw struct {
	bin, root, port string
	cmd             *exec.Cmd
}

// errNoVersitygw skips what needs versitygw.
var errNoVersitygw = skipError("versitygw is not on PATH (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")

func newVersitygw() (*versitygw, error) {
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		return nil, errNoVersitygw
	}
	root, err := os.MkdirTemp("", "shelf-bench-vgw-")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	return &versitygw{bin: bin, root: root, port: port}, nil
}

func (v *versitygw) endpoint() string { return "http://127.0.0.1:" + v.port }

// start (re)starts the gateway with extra flags and waits until it listens.
func (v *versitygw) start(ctx context.Context, extra ...string) error {
	v.stop()
	args := append([]string{"--port", "127.0.0.1:" + v.port, "--access", vgwAccess, "--secret", vgwSecret}, extra...)
	v.cmd = exec.Command(v.bin, append(args, "posix", v.root)...)
	if err := v.cmd.Start(); err != nil {
		return err
	}
	return poll(ctx, 30*time.Second, 50*time.Millisecond, func() (bool, error) {
		c, err := net.Dial("tcp", "127.0.0.1:"+v.port)
		if err == nil {
			c.Close()
		}
		return err == nil, nil
	})
}

func (v *versitygw) stop() {
	if v.cmd != nil && v.cmd.Process != nil {
		_ = v.cmd.Process.Kill()
		_ = v.cmd.Wait()
		v.cmd = nil
	}
}

// connectVersitygw connects an account of sh to bucket on a new versitygw
// and restarts the gateway posting its events to the events URL (it
// refuses to start while the URL refuses connections, so Shelf comes first).
func connectVersitygw(ctx context.Context, sh *shelf, name, bucket string) (*rig, error) {
	gw, err := newVersitygw()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*rig, error) {
		gw.stop()
		os.RemoveAll(gw.root)
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(gw.root, bucket), 0o755); err != nil {
		return fail(err)
	}
	if err := gw.start(ctx); err != nil {
		return fail(err)
	}
	r, err := connectRig(ctx, sh, name, map[string]any{"kind": "s3", "bucket": bucket, "endpoint": gw.endpoint(),
		"path_style": true, "access_key_id": vgwAccess, "secret_access_key": vgwSecret})
	if err != nil {
		return fail(err)
	}
	url, err := r.c.eventsURL()
	if err != nil {
		return fail(err)
	}
	if err := gw.start(ctx, "--event-webhook-url", url); err != nil {
		return fail(err)
	}
	conn, err := sh.svc.Conns.Connector(ctx, r.acct)
	if err != nil {
		return fail(err)
	}
	r.ch = connChanger{conn}
	r.close = func() {
		gw.stop()
		sh.close()
		os.RemoveAll(gw.root)
	}
	return r, nil
}

func setupVersitygw(ctx context.Context, o options) (*rig, error) {
	if _, err := exec.LookPath("versitygw"); err != nil {
		return nil, errNoVersitygw
	}
	sh, err := startShelf(ctx, o.server(true, nil, ""))
	if err != nil {
		return nil, err
	}
	r, err := connectVersitygw(ctx, sh, "versitygw", "media")
	if err != nil {
		sh.close()
		return nil, err
	}
	return r, nil
}

// setupDrive connects a folder of a fake Drive; with push Shelf's public
// URL is its loopback address, so Drive push channels open; without, it is
// a plain http name and the feed is polled every o.drivePoll.
func setupDrive(ctx context.Context, o options, push bool) (*rig, error) {
	fake := drivefake.NewServer(drivefake.Options{RequireAuth: true})
	fake.AddOAuthClient(oauthClientID, oauthClientSecret)
	sh, err := startShelf(ctx, o.server(push, fake, fmt.Sprintf("drive_live_poll = %q", o.drivePoll)))
	if err != nil {
		fake.Close()
		return nil, err
	}
	f, err := makeDriveFolder(fake, "drive")
	var r *rig
	if err == nil {
		r, err = f.connect(ctx, sh)
	}
	if err != nil {
		sh.close()
		fake.Close()
		return nil, err
	}
	r.close = func() {
		sh.close()
		fake.Close()
	}
	return r, nil
}

// driveFolder is a Drive folder holding benchFolders and a file, with a
// service account key that reaches it.
type driveFolder struct {
	name, top string
	key       []byte
	ch        *driveChanger
}

func makeDriveFolder(fake *drivefake.Server, name string) (driveFolder, error) {
	top := fake.CreateFolder(fake.RootID(), "Shelf "+name)
	dc := &driveChanger{fake: fake, folders: map[string]string{}, files: map[string]string{}}
	for _, f := range benchFolders {
		dc.folders[f] = fake.CreateFolder(top, f)
	}
	fake.CreateFile(dc.folders[benchFolders[0]], "seed.txt", "text/plain", []byte("seed"))
	key, err := fake.ServiceAccountKey(name + "@bench.iam.gserviceaccount.com")
	return driveFolder{name: name, top: top, key: key, ch: dc}, err
}

// connect signs up an account on sh, connects the folder with the service
// account and waits until it is watched live.
func (f driveFolder) connect(ctx context.Context, sh *shelf) (*rig, error) {
	r, err := connectRig(ctx, sh, f.name, map[string]any{"kind": "gdrive", "folder_id": f.top, "service_account_json": string(f.key)})
	if err != nil {
		return nil, err
	}
	r.ch = f.ch
	return r, nil
}

// driveChanger changes the fake Drive as a user would in Drive itself.
type driveChanger struct {
	fake    *drivefake.Server
	folders map[string]string // benchFolders' IDs
	files   map[string]string // path → file ID
}

func (d *driveChanger) add(_ context.Context, p string) error {
	dir, name := path.Split(p)
	d.files[p] = d.fake.CreateFile(d.folders[path.Clean(dir)], name, "text/plain", []byte("bench "+p))
	return nil
}

func (d *driveChanger) move(_ context.Context, from, to string) error {
	id := d.files[from]
	delete(d.files, from)
	d.files[to] = id
	return d.fake.Move(id, d.folders[path.Dir(to)])
}

func (d *driveChanger) remove(_ context.Context, p string) error {
	id := d.files[p]
	delete(d.files, p)
	return d.fake.Delete(id)
}
