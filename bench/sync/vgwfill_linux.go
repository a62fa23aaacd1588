package main

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// Filling versitygw through its S3 API takes about an hour per million
// objects here. Its posix backend (versitygw v1.8.0, backend/posix) keeps
// an object as the file <root>/<bucket>/<key> (parent folders made as
// needed, without attributes) with its metadata in user.* extended
// attributes, and its ListObjectsV2 walks the bucket folder and reads them
// (ETag, checksum algorithm; size and time from stat). An object PUT
// through the API with the SDK's defaults gets exactly three:
//
//	user.etag          "<md5 hex>" (with the quotes)
//	user.checksums     {"Algorithm":"CRC64NVME","Type":"FULL_OBJECT",…,"CRC64NVME":"<base64>",…}
//	user.content-type  application/octet-stream
//
// writeVGWObject writes that directly, so the listing returns what it
// returns after API uploads. vgwAttrsMatch checks it against an object the
// API stored, so a versitygw that stores objects differently stops the
// fill instead of skewing the benchmark.

var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5) // CRC-64/NVME, reflected

// vgwAttrs are the extended attributes versitygw stores for an object with
// this body put through its API.
func vgwAttrs(body []byte) map[string][]byte {
	sum := md5.Sum(body)
	var crc [8]byte
	binary.BigEndian.PutUint64(crc[:], crc64.Checksum(body, crc64NVME))
	return map[string][]byte{
		"user.etag": []byte(`"` + hex.EncodeToString(sum[:]) + `"`),
		"user.checksums": []byte(`{"Algorithm":"CRC64NVME","Type":"FULL_OBJECT","CRC32":null,"CRC32C":null,"SHA1":null,"SHA256":null,"CRC64NVME":"` +
			base64.StdEncoding.EncodeToString(crc[:]) + `","SHA512":null,"MD5":null,"XXHASH64":null,"XXHASH3":null,"XXHASH128":null}`),
		"user.content-type": []byte("application/octet-stream"),
	}
}

// writeVGWObjects writes objects from..n-1 into the bucket folder with 4
// writers.
func writeVGWObjects(bucketDir string, from, n int) error {
	jobs := make(chan int, 256)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := writeVGWObject(bucketDir, i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := from; i < n; i++ {
		if i%100 == 0 || i == from {
			// a folder's 100 files are written after it is made
			if err := os.MkdirAll(filepath.Dir(filepath.Join(bucketDir, filepath.FromSlash(objectKey(i)))), 0o755); err != nil {
				close(jobs)
				wg.Wait()
				return err
			}
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return first
}

func writeVGWObject(bucketDir string, i int) error {
	body := objectBody(i)
	p := filepath.Join(bucketDir, filepath.FromSlash(objectKey(i)))
	if err := os.WriteFile(p, body, 0o644); err != nil {
		return err
	}
	for name, v := range vgwAttrs(body) {
		if err := syscall.Setxattr(p, name, v, 0); err != nil {
			return fmt.Errorf("setting %s on %s: %w", name, p, err)
		}
	}
	return nil
}

// vgwAttrsMatch compares the attributes of object i, put through the API
// into bucketDir, with those writeVGWObject writes.
func vgwAttrsMatch(bucketDir string, i int) error {
	p := filepath.Join(bucketDir, filepath.FromSlash(objectKey(i)))
	buf := make([]byte, 64<<10)
	n, err := syscall.Listxattr(p, buf)
	if err != nil {
		return err
	}
	var names []string
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name != "" {
			names = append(names, name)
		}
	}
	want := vgwAttrs(objectBody(i))
	var wantNames []string
	for name := range want {
		wantNames = append(wantNames, name)
	}
	sort.Strings(names)
	sort.Strings(wantNames)
	if strings.Join(names, ",") != strings.Join(wantNames, ",") {
		return fmt.Errorf("versitygw stored attributes %v on %s, this program writes %v", names, p, wantNames)
	}
	for _, name := range names {
		m, err := syscall.Getxattr(p, name, buf)
		if err != nil {
			return err
		}
		if !bytes.Equal(buf[:m], want[name]) {
			return fmt.Errorf("versitygw stored %s = %q on %s, this program writes %q", name, buf[:m], p, want[name])
		}
	}
	return nil
}
