package download

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFetchNeverWritesThroughALink: a part file that is, or becomes while
// the request is under way, a hard or symbolic link to a file elsewhere is
// never written through. Its name is dropped and the file downloads from
// zero into a file of its own; the linked file keeps its bytes.
func TestFetchNeverWritesThroughALink(t *testing.T) {
	const half = testSize / 2
	body := testBytes(testSize, 11)
	for _, tc := range []struct {
		name     string
		link     func(oldname, newname string) error
		midRun   bool // planted as the server answers, after the part was checked
		wantGets int
	}{
		{"hard link before", os.Link, false, 1},
		{"symbolic link before", os.Symlink, false, 1},
		{"hard link while the request runs", os.Link, true, 2},
		{"symbolic link while the request runs", os.Symlink, true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, body)
			dir := t.TempDir()
			dest := filepath.Join(dir, "disk.qcow2")
			part := partOf(dest)
			victim := filepath.Join(dir, "outside.txt")
			keep := []byte("nothing to append.\n")
			if err := os.WriteFile(victim, keep, 0o644); err != nil {
				t.Fatal(err)
			}
			plant := func() {
				if err := os.Remove(part); err != nil {
					t.Error(err)
				}
				if err := tc.link(victim, part); err != nil {
					t.Error(err)
				}
			}
			writePart(t, dest, body[:half], &sidecar{URL: srv.url(), Validator: `"v1"`, Size: testSize, Digest: sha256Of(body)})
			if tc.midRun {
				srv.onGet = func(n int) {
					if n == 1 {
						plant()
					}
				}
			} else {
				plant()
			}
			_, err := testClient(Options{}).Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: part, Digest: sha256Of(body), Size: testSize}, nil)
			if err != nil {
				t.Fatal(err)
			}
			assertFile(t, dest, body)
			assertFile(t, victim, keep)
			log := srv.log()
			if len(log) != tc.wantGets || log[len(log)-1].rangeHdr != "" {
				t.Errorf("GETs %+v; want %d, the last from zero", log, tc.wantGets)
			}
		})
	}
}
