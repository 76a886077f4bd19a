package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func contextCancelled(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx, cancel
}

func TestVerify(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 300_000) // ~4.6 MiB: several buffers
	files := map[string]string{"vmlinuz": "kernel", "initramfs": "initrd", "disk.qcow2": big}
	k := Key{"ubuntu", "24.04", "x86_64"}

	tests := []struct {
		name    string
		damage  func(t *testing.T, c *Cache, m *Meta)
		want    []string // substrings, one per problem
		wantErr error
	}{
		{name: "intact", damage: func(*testing.T, *Cache, *Meta) {}},
		{
			name: "one flipped byte",
			damage: func(t *testing.T, c *Cache, m *Meta) {
				p := filepath.Join(c.Dir(k), "disk.qcow2")
				b, _ := os.ReadFile(p)
				b[len(b)/2] ^= 0x01
				os.WriteFile(p, b, 0o644)
			},
			want: []string{"disk.qcow2: sha256 mismatch (expected " + sha([]byte(big)).Hex + ", got "},
		},
		{
			name:   "missing kernel",
			damage: func(t *testing.T, c *Cache, m *Meta) { os.Remove(filepath.Join(c.Dir(k), "vmlinuz")) },
			want:   []string{"vmlinuz: missing"},
		},
		{
			name: "truncated initramfs",
			damage: func(t *testing.T, c *Cache, m *Meta) {
				os.WriteFile(filepath.Join(c.Dir(k), "initramfs"), []byte("init"), 0o644)
			},
			want: []string{"initramfs: size 4 bytes, expected 6"},
		},
		{
			name: "asset replaced by a symlink",
			damage: func(t *testing.T, c *Cache, m *Meta) {
				p := filepath.Join(c.Dir(k), "vmlinuz")
				os.Remove(p)
				os.Symlink("/etc/passwd", p)
			},
			want: []string{"vmlinuz: not a regular file"},
		},
		{
			name: "stale raw disk",
			damage: func(t *testing.T, c *Cache, m *Meta) {
				os.WriteFile(filepath.Join(c.Dir(k), "disk.raw"), []byte("raw"), 0o644)
				m.DiskRaw = &RawMeta{File: "disk.raw", Digest: sha([]byte("raw")), SourceDigest: sha([]byte("older disk")), Size: 3, ConvertedAt: t0}
				if err := c.WriteMeta(m); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"disk.raw: converted from another disk"},
		},
		{
			name: "raw disk changed in place",
			damage: func(t *testing.T, c *Cache, m *Meta) {
				os.WriteFile(filepath.Join(c.Dir(k), "disk.raw"), []byte("RAW"), 0o644)
				m.DiskRaw = &RawMeta{File: "disk.raw", Digest: sha([]byte("raw")), SourceDigest: m.Asset(RoleDisk).Digest, Size: 3, ConvertedAt: t0}
				if err := c.WriteMeta(m); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"disk.raw: sha256 mismatch (expected " + sha([]byte("raw")).Hex + ", got "},
		},
		{
			name: "raw disk without a digest",
			damage: func(t *testing.T, c *Cache, m *Meta) {
				os.WriteFile(filepath.Join(c.Dir(k), "disk.raw"), []byte("raw"), 0o644)
				m.DiskRaw = &RawMeta{File: "disk.raw", SourceDigest: m.Asset(RoleDisk).Digest, Size: 3, ConvertedAt: t0}
				if err := c.WriteMeta(m); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"disk.raw: no digest recorded"},
		},
		{
			name: "missing raw disk",
			damage: func(t *testing.T, c *Cache, m *Meta) {
				m.DiskRaw = &RawMeta{File: "disk.raw", SourceDigest: m.Asset(RoleDisk).Digest, Size: 3, ConvertedAt: t0}
				c.WriteMeta(m)
			},
			want: []string{"disk.raw: missing"},
		},
		{
			name:    "no metadata",
			damage:  func(t *testing.T, c *Cache, m *Meta) { os.Remove(filepath.Join(c.Dir(k), "meta.json")) },
			wantErr: ErrNotCached,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			m := putImage(t, c, k, files, t0)
			tt.damage(t, c, m)
			var last, total int64
			problems, err := c.VerifyWithProgress(t.Context(), k, func(done, tot int64) {
				if done < last {
					t.Errorf("progress went back: %d after %d", done, last)
				}
				last, total = done, tot
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if len(problems) != len(tt.want) {
				t.Fatalf("problems = %q, want %d like %q", problems, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(problems[i], w) {
					t.Errorf("problem %q, want prefix %q", problems[i], w)
				}
			}
			if err == nil && last != total {
				t.Errorf("progress ended at %d of %d", last, total)
			}
		})
	}
}

func TestVerifyCancelled(t *testing.T) {
	c := openTest(t)
	k := Key{"ubuntu", "24.04", "x86_64"}
	putImage(t, c, k, map[string]string{"disk.qcow2": strings.Repeat("x", 3<<20)}, t0)
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	_, err := c.VerifyWithProgress(ctx, k, func(done, total int64) {
		calls++
		cancel() // after the first MiB
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify = %v, want context.Canceled", err)
	}
	if calls != 1 {
		t.Errorf("hashed %d chunks after cancel, want 1", calls)
	}
}

func TestVerifyWeakDigest(t *testing.T) {
	c := openTest(t)
	k := Key{"ubuntu", "24.04", "x86_64"}
	m := putImage(t, c, k, map[string]string{"vmlinuz": "k"}, t0)
	m.Assets[0].Digest.Algorithm = "md5"
	m.Assets[0].Digest.Hex = strings.Repeat("0", 32)
	c.WriteMeta(m)
	problems, err := c.Verify(t.Context(), k)
	if err != nil || !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "too weak") }) {
		t.Errorf("Verify = %q, %v", problems, err)
	}
}
