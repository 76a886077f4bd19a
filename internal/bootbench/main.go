// Command bootbench times the direct-boot work of a pull for scripts/bench.sh:
//
//	bootbench extract DISK     kernel + initramfs out of DISK (qcow2 or raw)
//	bootbench decompress FILE  an arm64 kernel (gzip or zboot) to its Image
//
// It prints the median wall seconds of RUNS runs (default 3) on stdout.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"vmimages/core/boot"
	"vmimages/core/qemuimg"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bootbench extract DISK | decompress FILE")
		os.Exit(2)
	}
	runs, _ := strconv.Atoi(os.Getenv("RUNS"))
	runs = max(runs, 1)
	ctx := context.Background()
	var once func() error
	switch os.Args[1] {
	case "extract":
		once = func() error {
			tmp := filepath.Dir(os.Args[2])
			_, err := boot.ExtractFile(ctx, qemuimg.Tool{}, os.Args[2], tmp, io.Discard, io.Discard)
			return err
		}
	case "decompress":
		once = func() error {
			f, err := os.Open(os.Args[2])
			if err != nil {
				return err
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			_, _, err = boot.DecompressArm64(ctx, io.Discard, f, fi.Size(), 0)
			return err
		}
	default:
		fmt.Fprintf(os.Stderr, "bootbench: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
	var times []float64
	for range runs {
		start := time.Now()
		if err := once(); err != nil {
			fmt.Fprintln(os.Stderr, "bootbench:", err)
			os.Exit(1)
		}
		times = append(times, time.Since(start).Seconds())
	}
	sort.Float64s(times)
	fmt.Printf("%.3f\n", times[len(times)/2])
}
