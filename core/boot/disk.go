package boot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/diskfs/go-diskfs/partition/mbr"
)

const sector = 512

// volume is a stretch of the disk that may hold a filesystem: a partition,
// or the whole disk when there is no partition table.
type volume struct {
	index       int // 1-based partition number; 0 is the whole disk
	start, size int64
}

func (v volume) String() string {
	if v.index == 0 {
		return "the whole disk"
	}
	return fmt.Sprintf("partition %d", v.index)
}

// volumes reads the partition table (GPT, else MBR) and returns the
// partitions that lie inside the disk, or the whole disk when it has no
// partition table. A damaged table is an error: guessing could pick the
// wrong filesystem.
func volumes(st *readerStorage) (vols []volume, table string, err error) {
	if st.size < 2*sector {
		return nil, "", &DiskError{Reason: fmt.Sprintf("%d bytes is too small for a disk", st.size)}
	}
	head := make([]byte, 2*sector)
	if _, err := st.ReadAt(head, 0); err != nil {
		return nil, "", fmt.Errorf("kernel extraction: read partition table: %w", err)
	}
	hasMBRSig := head[510] == 0x55 && head[511] == 0xAA
	if bytes.Equal(head[sector:sector+8], []byte("EFI PART")) || (hasMBRSig && protectiveMBR(head)) {
		if err := checkGPTHeader(head[sector:]); err != nil {
			return nil, "", err
		}
		t, err := safely(func() (*gpt.Table, error) { return gpt.Read(st, sector, sector) })
		if err != nil {
			return nil, "", &DiskError{Reason: "damaged GPT", Err: err}
		}
		for _, p := range t.Partitions {
			if p.End < p.Start {
				continue
			}
			vols = appendVolume(vols, st.size, p.Index, p.Start, p.End-p.Start+1)
		}
		return vols, "gpt", nil
	}
	if hasMBRSig && !looksLikeBootSector(head) {
		t, err := safely(func() (*mbr.Table, error) { return mbr.Read(st, sector, sector) })
		if err != nil {
			return nil, "", &DiskError{Reason: "damaged MBR", Err: err}
		}
		for i, p := range t.Partitions {
			switch p.Type {
			case mbr.Empty, 0x05, 0x0f, 0x85: // unused, extended
				continue
			}
			vols = appendVolume(vols, st.size, i+1, uint64(p.Start), uint64(p.Size))
		}
		return vols, "mbr", nil
	}
	return []volume{{index: 0, start: 0, size: st.size}}, "", nil
}

// appendVolume adds a partition, clipped to the disk: a truncated image
// still shows its earlier partitions whole, and the filesystem readers see
// where their partition really ends.
func appendVolume(vols []volume, diskSize int64, index int, startLBA, sectors uint64) []volume {
	max := uint64(diskSize) / sector
	if startLBA == 0 || sectors == 0 || startLBA >= max {
		return vols
	}
	sectors = min(sectors, max-startLBA)
	return append(vols, volume{index: index, start: int64(startLBA) * sector, size: int64(sectors) * sector})
}

// protectiveMBR reports whether the MBR's only job is to announce a GPT.
func protectiveMBR(b []byte) bool {
	for i := range 4 {
		if b[446+16*i+4] == 0xEE {
			return true
		}
	}
	return false
}

// looksLikeBootSector tells a filesystem over the whole disk (FAT's boot
// sector also ends in 55 AA) from an MBR.
func looksLikeBootSector(b []byte) bool {
	return (b[0] == 0xEB || b[0] == 0xE9) &&
		(bytes.Equal(b[54:57], []byte("FAT")) || bytes.Equal(b[82:85], []byte("FAT")))
}

// checkGPTHeader refuses headers whose entry array is absurd before
// go-diskfs allocates it.
func checkGPTHeader(h []byte) error {
	if !bytes.Equal(h[:8], []byte("EFI PART")) {
		return &DiskError{Reason: "the protective MBR announces a GPT, but there is none"}
	}
	hdrSize := binary.LittleEndian.Uint32(h[12:])
	if hdrSize < 92 || hdrSize > sector {
		return &DiskError{Reason: fmt.Sprintf("GPT header size %d is invalid", hdrSize)}
	}
	crc := binary.LittleEndian.Uint32(h[16:])
	hdr := append([]byte{}, h[:hdrSize]...)
	clear(hdr[16:20])
	if crc32.ChecksumIEEE(hdr) != crc {
		return &DiskError{Reason: "GPT header checksum mismatch"}
	}
	entries := binary.LittleEndian.Uint32(h[80:])
	entrySize := binary.LittleEndian.Uint32(h[84:])
	if entrySize < 128 || entrySize > 1024 || entries == 0 || uint64(entries)*uint64(entrySize) > 1<<20 {
		return &DiskError{Reason: fmt.Sprintf("GPT entry array (%d entries of %d bytes) is invalid", entries, entrySize)}
	}
	return nil
}

// fsKind names what a volume holds, from its first bytes.
func fsKind(st *readerStorage, v volume) (string, error) {
	b := make([]byte, min(v.size, 0x10048))
	n, err := st.ReadAt(b, v.start)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("kernel extraction: read %s: %w", v, err)
	}
	b = b[:n]
	at := func(off int, magic string) bool {
		return len(b) >= off+len(magic) && string(b[off:off+len(magic)]) == magic
	}
	switch {
	case at(0x438, "\x53\xef"):
		return "ext4", nil
	case at(0, "XFSB"):
		return "xfs", nil
	case at(0x10040, "_BHRfS_M"):
		return "btrfs", nil
	case at(0, "LUKS\xba\xbe"):
		return "LUKS", nil
	case at(0x218, "LVM2 001"):
		return "LVM", nil
	case len(b) >= sector && looksLikeBootSector(b) && at(510, "\x55\xaa"):
		return "vfat", nil
	case at(0xff6, "SWAPSPACE2"):
		return "swap", nil
	}
	return "", nil
}
