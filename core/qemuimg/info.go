package qemuimg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrBadInfo means qemu-img's JSON output could not be understood.
var ErrBadInfo = errors.New("unexpected qemu-img info output")

// Info is what `qemu-img info --output=json` says about an image.
type Info struct {
	// Filename is the file name as qemu-img was given it.
	Filename string `json:"filename"`
	// Format is the detected format: "qcow2", "raw", "vmdk", …
	Format string `json:"format"`
	// VirtualSize is the size of the disk the guest sees, in bytes.
	VirtualSize int64 `json:"virtual-size"`
	// ActualSize is the space the file occupies on the host, in bytes.
	ActualSize int64 `json:"actual-size"`
	// ClusterSize is the allocation unit of formats that have one.
	ClusterSize int64 `json:"cluster-size,omitempty"`
	// BackingFile is the backing file the image refers to, "" for none.
	BackingFile string `json:"backing-filename,omitempty"`
	// BackingFormat is the format recorded for the backing file.
	BackingFormat string `json:"backing-filename-format,omitempty"`
	// DataFile is a qcow2 image's external data file, "" for none.
	DataFile string `json:"data-file,omitempty"`
	// Extents counts the extent files of a vmdk image.
	Extents int `json:"extents,omitempty"`
	// Encrypted reports an encrypted image.
	Encrypted bool `json:"encrypted,omitempty"`
	// Corrupt reports a qcow2 image marked corrupt.
	Corrupt bool `json:"corrupt,omitempty"`
	// Dirty reports an image not closed cleanly (qcow2 lazy refcounts).
	Dirty bool `json:"dirty-flag,omitempty"`
}

// rawInfo mirrors qemu-img's JSON, nested parts included.
type rawInfo struct {
	Filename       string `json:"filename"`
	Format         string `json:"format"`
	VirtualSize    *int64 `json:"virtual-size"`
	ActualSize     int64  `json:"actual-size"`
	ClusterSize    int64  `json:"cluster-size"`
	BackingFile    string `json:"backing-filename"`
	FullBacking    string `json:"full-backing-filename"`
	BackingFormat  string `json:"backing-filename-format"`
	Encrypted      bool   `json:"encrypted"`
	Dirty          bool   `json:"dirty-flag"`
	FormatSpecific *struct {
		Type string `json:"type"`
		Data struct {
			DataFile string            `json:"data-file"`
			Corrupt  bool              `json:"corrupt"`
			Extents  []json.RawMessage `json:"extents"`
		} `json:"data"`
	} `json:"format-specific"`
}

// ParseInfo reads the output of `qemu-img info --output=json` for one image
// (not --backing-chain, which prints a list).
func ParseInfo(b []byte) (Info, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return Info{}, fmt.Errorf("%w: not a JSON object", ErrBadInfo)
	}
	var r rawInfo
	if err := json.Unmarshal(b, &r); err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrBadInfo, err)
	}
	switch {
	case r.Format == "":
		return Info{}, fmt.Errorf("%w: no format", ErrBadInfo)
	case r.VirtualSize == nil:
		return Info{}, fmt.Errorf("%w: no virtual size", ErrBadInfo)
	case *r.VirtualSize < 0 || r.ActualSize < 0 || r.ClusterSize < 0:
		return Info{}, fmt.Errorf("%w: negative size", ErrBadInfo)
	}
	info := Info{
		Filename:      r.Filename,
		Format:        r.Format,
		VirtualSize:   *r.VirtualSize,
		ActualSize:    r.ActualSize,
		ClusterSize:   r.ClusterSize,
		BackingFile:   r.BackingFile,
		BackingFormat: r.BackingFormat,
		Encrypted:     r.Encrypted,
		Dirty:         r.Dirty,
	}
	if info.BackingFile == "" {
		info.BackingFile = r.FullBacking
	}
	if fs := r.FormatSpecific; fs != nil {
		info.DataFile = fs.Data.DataFile
		info.Corrupt = fs.Data.Corrupt
		info.Extents = len(fs.Data.Extents)
	}
	return info, nil
}
