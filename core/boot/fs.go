package boot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"

	"github.com/diskfs/go-diskfs/filesystem/ext4"
	"github.com/diskfs/go-diskfs/filesystem/fat12"
	"github.com/diskfs/go-diskfs/filesystem/fat16"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/masahiro331/go-xfs-filesystem/xfs"
)

// bootFS is what Extract needs of a filesystem.
type bootFS interface {
	ReadDir(name string) ([]fs.DirEntry, error)
	Open(name string) (fs.File, error)
}

// maxGroups caps ext4 block groups and XFS allocation groups: 65536 ext4
// groups of 128 MiB are 8 TiB, far beyond a cloud image.
const maxGroups = 1 << 16

// maxMetadata caps the tables a filesystem reader allocates up front
// (ext4 group descriptors, a FAT): far above any real disk image's, far
// below what a hostile superblock can ask for.
const maxMetadata = 32 << 20

// openFS opens the filesystem of kind on v after checking the few header
// fields that size the reader's first allocations.
func openFS(st *readerStorage, v volume, kind string) (bootFS, error) {
	hdr := make([]byte, 4096)
	if _, err := st.ReadAt(hdr, v.start); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch kind {
	case "ext4":
		if err := checkExt4(hdr[1024:2048], v.size); err != nil {
			return nil, err
		}
		return safely(func() (bootFS, error) {
			f, err := ext4.Read(st, v.size, v.start, sector)
			if err != nil {
				return nil, err
			}
			return &ext4FS{FileSystem: f, st: st, vol: v}, nil
		})
	case "xfs":
		if err := checkXFS(hdr, v.size); err != nil {
			return nil, err
		}
		return safely(func() (bootFS, error) {
			return xfs.NewFS(*io.NewSectionReader(st, v.start, v.size), nil)
		})
	case "vfat":
		fat, err := checkFAT(hdr, v.size)
		if err != nil {
			return nil, err
		}
		return safely(func() (bootFS, error) {
			switch fat {
			case 12:
				return fat12.Read(st, v.size, v.start, sector)
			case 16:
				return fat16.Read(st, v.size, v.start, sector)
			}
			return fat32.Read(st, v.size, v.start, sector)
		})
	}
	return nil, fmt.Errorf("no reader for %s", kind)
}

func pow2In(x, lo, hi uint64) bool {
	return x >= lo && x <= hi && bits.OnesCount64(x) == 1
}

// checkExt4 checks an ext2/3/4 superblock against the volume it is on.
func checkExt4(sb []byte, volSize int64) error {
	le32 := func(o int) uint64 { return uint64(binary.LittleEndian.Uint32(sb[o:])) }
	logBlock := le32(0x18)
	if logBlock > 6 {
		return fmt.Errorf("block size 2^%d is invalid", 10+logBlock)
	}
	bs := uint64(1024) << logBlock
	blocks := le32(0x04)
	descSize := uint64(32)
	if le32(0x60)&0x80 != 0 { // INCOMPAT_64BIT
		blocks |= le32(0x150) << 32
		descSize = uint64(binary.LittleEndian.Uint16(sb[0xFE:]))
		if descSize < 32 || descSize > 1024 {
			return fmt.Errorf("group descriptor size %d is invalid", descSize)
		}
	}
	perGroup, inodesPerGroup := le32(0x20), le32(0x28)
	switch {
	case blocks == 0 || blocks > uint64(volSize)/bs:
		return fmt.Errorf("%d blocks of %d bytes do not fit the %d-byte partition", blocks, bs, volSize)
	case perGroup < 8 || perGroup > 8*bs || inodesPerGroup == 0 || inodesPerGroup > 8*bs:
		return fmt.Errorf("block group geometry (%d blocks, %d inodes) is invalid", perGroup, inodesPerGroup)
	case (blocks+perGroup-1)/perGroup > maxGroups:
		return fmt.Errorf("more than %d block groups", maxGroups)
	}
	return nil
}

// checkXFS checks an XFS superblock against the volume it is on.
func checkXFS(sb []byte, volSize int64) error {
	be16 := func(o int) uint64 { return uint64(binary.BigEndian.Uint16(sb[o:])) }
	be32 := func(o int) uint64 { return uint64(binary.BigEndian.Uint32(sb[o:])) }
	bs, dblocks := be32(4), binary.BigEndian.Uint64(sb[8:])
	agBlocks, agCount := be32(84), be32(88)
	sect, inode, perBlock := be16(102), be16(104), be16(106)
	switch {
	case !pow2In(bs, 512, 65536) || !pow2In(sect, 512, 32768) || !pow2In(inode, 256, 2048) || perBlock != bs/inode:
		return fmt.Errorf("block, sector or inode size (%d, %d, %d) is invalid", bs, sect, inode)
	case agBlocks*bs < 16<<20 || agCount == 0 || agCount > maxGroups || dblocks == 0 || dblocks > uint64(volSize)/bs ||
		(agCount-1)*agBlocks >= dblocks || dblocks > agCount*agBlocks:
		return fmt.Errorf("allocation groups (%d of %d blocks, %d blocks) do not fit the %d-byte partition", agCount, agBlocks, dblocks, volSize)
	}
	return nil
}

// checkFAT checks a FAT boot sector against the volume it is on and says
// which FAT it is (12, 16 or 32).
func checkFAT(bs []byte, volSize int64) (int, error) {
	le16 := func(o int) uint64 { return uint64(binary.LittleEndian.Uint16(bs[o:])) }
	le32 := func(o int) uint64 { return uint64(binary.LittleEndian.Uint32(bs[o:])) }
	bps, spc, reserved, fats := le16(11), uint64(bs[13]), le16(14), uint64(bs[16])
	rootEntries := le16(17)
	total := le16(19)
	if total == 0 {
		total = le32(32)
	}
	spf := le16(22)
	if spf == 0 {
		spf = le32(36)
	}
	switch {
	case !pow2In(bps, 512, 4096) || !pow2In(spc, 1, 128) || reserved == 0 || fats == 0 || fats > 2:
		return 0, fmt.Errorf("boot sector geometry is invalid")
	case total == 0 || total > uint64(volSize)/bps:
		return 0, fmt.Errorf("%d sectors of %d bytes do not fit the %d-byte partition", total, bps, volSize)
	case spf == 0 || spf*bps > maxMetadata || reserved+fats*spf >= total:
		return 0, fmt.Errorf("FAT size (%d sectors) is invalid", spf)
	}
	if le16(22) == 0 {
		return 32, nil
	}
	rootSectors := (rootEntries*32 + bps - 1) / bps
	if reserved+fats*spf+rootSectors >= total {
		return 0, fmt.Errorf("FAT root directory does not fit")
	}
	if (total-reserved-fats*spf-rootSectors)/spc < 4085 {
		return 12, nil
	}
	return 16, nil
}
