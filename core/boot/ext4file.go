package boot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"

	"github.com/diskfs/go-diskfs/filesystem/ext4"
)

// ext4FS reads directories with go-diskfs but file contents itself, from
// the inode's extent tree: go-diskfs reads the wrong blocks after a hole in
// a sparse file (mkfs.ext4 -d makes zero blocks holes), and a kernel must
// come out byte for byte.
type ext4FS struct {
	*ext4.FileSystem
	st  *readerStorage
	vol volume
}

func (e *ext4FS) Open(name string) (fs.File, error) {
	info, err := e.Stat(name)
	if err != nil {
		return nil, err
	}
	st, ok := info.Sys().(*ext4.StatT)
	if !ok || !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	r, err := openExtents(e.st, e.vol, st.Ino, info.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &extentFile{extentReader: r, info: info}, nil
}

type extentFile struct {
	*extentReader
	info fs.FileInfo
}

func (f *extentFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *extentFile) Close() error               { return nil }

// extent maps file blocks [lblock, lblock+count) to disk blocks from
// pblock; unwritten extents read as zeros.
type extent struct {
	lblock, count, pblock uint64
	unwritten             bool
}

// extentReader reads a file through its extents, zeros in the holes.
type extentReader struct {
	st      *readerStorage
	base    int64 // the volume's start on the disk
	bs      int64
	size    int64
	pos     int64
	extents []extent // sorted by lblock, not overlapping
}

const maxExtents = 1 << 16

// openExtents reads inode ino's extent tree from the ext4 volume v.
func openExtents(st *readerStorage, v volume, ino uint32, size int64) (*extentReader, error) {
	sb := make([]byte, 1024)
	if _, err := st.ReadAt(sb, v.start+1024); err != nil {
		return nil, err
	}
	le16 := func(b []byte, o int) uint64 { return uint64(binary.LittleEndian.Uint16(b[o:])) }
	le32 := func(b []byte, o int) uint64 { return uint64(binary.LittleEndian.Uint32(b[o:])) }
	bs := uint64(1024) << min(le32(sb, 0x18), 6)
	blocks := le32(sb, 0x04)
	firstData, perGroup := le32(sb, 0x14), le32(sb, 0x28)
	inodeSize := uint64(128)
	if le32(sb, 0x4C) >= 1 { // dynamic revision
		inodeSize = le16(sb, 0x58)
	}
	is64 := le32(sb, 0x60)&0x80 != 0
	descSize := uint64(32)
	if is64 {
		blocks |= le32(sb, 0x150) << 32
		descSize = max(le16(sb, 0xFE), 32)
	}
	if ino == 0 || perGroup == 0 || inodeSize < 128 || inodeSize > bs {
		return nil, errors.New("invalid inode geometry")
	}
	group, index := (uint64(ino)-1)/perGroup, (uint64(ino)-1)%perGroup
	desc := make([]byte, descSize)
	if _, err := st.ReadAt(desc, v.start+int64((firstData+1)*bs+group*descSize)); err != nil {
		return nil, fmt.Errorf("read group descriptor: %w", err)
	}
	table := le32(desc, 8)
	if is64 && descSize >= 0x2C {
		table |= le32(desc, 0x28) << 32
	}
	if table >= blocks {
		return nil, errors.New("inode table outside the filesystem")
	}
	inode := make([]byte, inodeSize)
	if _, err := st.ReadAt(inode, v.start+int64(table*bs+index*inodeSize)); err != nil {
		return nil, fmt.Errorf("read inode %d: %w", ino, err)
	}
	flags := le32(inode, 0x20)
	if flags&0x10000000 != 0 || flags&0x80000 == 0 {
		return nil, errors.New("only extent-mapped files are read (not inline or block-mapped ones)")
	}
	r := &extentReader{st: st, base: v.start, bs: int64(bs), size: size}
	if err := r.walk(inode[0x28:0x28+60], 0, blocks); err != nil {
		return nil, err
	}
	sort.Slice(r.extents, func(i, j int) bool { return r.extents[i].lblock < r.extents[j].lblock })
	for i := 1; i < len(r.extents); i++ {
		if p := r.extents[i-1]; p.lblock+p.count > r.extents[i].lblock {
			return nil, errors.New("overlapping extents")
		}
	}
	return r, nil
}

// walk collects the leaves of an extent tree node.
func (r *extentReader) walk(node []byte, level int, fsBlocks uint64) error {
	le16 := func(o int) uint64 { return uint64(binary.LittleEndian.Uint16(node[o:])) }
	if len(node) < 12 || le16(0) != 0xF30A {
		return errors.New("bad extent header")
	}
	entries, depth := int(le16(2)), le16(6)
	if depth > 5 || level > 5 || 12+entries*12 > len(node) {
		return errors.New("bad extent tree")
	}
	for i := range entries {
		e := node[12+12*i : 24+12*i]
		if depth == 0 {
			n := uint64(binary.LittleEndian.Uint16(e[4:]))
			x := extent{lblock: uint64(binary.LittleEndian.Uint32(e)), count: n,
				pblock: uint64(binary.LittleEndian.Uint16(e[6:]))<<32 | uint64(binary.LittleEndian.Uint32(e[8:]))}
			if n > 32768 {
				x.count, x.unwritten = n-32768, true
			}
			if x.pblock+x.count > fsBlocks {
				return errors.New("extent outside the filesystem")
			}
			if len(r.extents) >= maxExtents {
				return errors.New("too many extents")
			}
			r.extents = append(r.extents, x)
			continue
		}
		leaf := uint64(binary.LittleEndian.Uint16(e[8:]))<<32 | uint64(binary.LittleEndian.Uint32(e[4:]))
		if leaf >= fsBlocks {
			return errors.New("extent index outside the filesystem")
		}
		child := make([]byte, r.bs)
		if _, err := r.st.ReadAt(child, r.base+int64(leaf)*r.bs); err != nil {
			return fmt.Errorf("read extent block: %w", err)
		}
		if err := r.walk(child, level+1, fsBlocks); err != nil {
			return err
		}
	}
	return nil
}

func (r *extentReader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.pos)]
	block := uint64(r.pos / r.bs)
	i := sort.Search(len(r.extents), func(i int) bool { return r.extents[i].lblock+r.extents[i].count > block })
	var n int
	switch {
	case i < len(r.extents) && r.extents[i].lblock <= block:
		e := r.extents[i]
		end := int64(e.lblock+e.count) * r.bs
		p = p[:min(int64(len(p)), end-r.pos)]
		if e.unwritten {
			clear(p)
			n = len(p)
			break
		}
		off := r.base + int64(e.pblock)*r.bs + (r.pos - int64(e.lblock)*r.bs)
		var err error
		n, err = r.st.ReadAt(p, off)
		if err != nil && !(errors.Is(err, io.EOF) && n == len(p)) {
			r.pos += int64(n)
			return n, err
		}
	default: // a hole up to the next extent
		if i < len(r.extents) {
			p = p[:min(int64(len(p)), int64(r.extents[i].lblock)*r.bs-r.pos)]
		}
		clear(p)
		n = len(p)
	}
	r.pos += int64(n)
	return n, nil
}
