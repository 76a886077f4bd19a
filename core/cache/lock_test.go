package cache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const helperEnv = "VMIMAGES_CACHE_LOCK_HELPER"

// TestHelperProcess is not a test: TestLockAcrossProcesses runs the test
// binary again with it, as another process that holds an image's lock until
// its stdin closes.
func TestHelperProcess(t *testing.T) {
	root := os.Getenv(helperEnv)
	if root == "" {
		t.Skip("helper process only")
	}
	c, err := Open(root)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	unlock, err := c.Lock(context.Background(), Key{"ubuntu", "24.04", "x86_64"})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	unlock()
	os.Exit(0)
}

// startHolder starts a child process holding k's lock; closing the returned
// writer makes it exit.
func startHolder(t *testing.T, root string) (release func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+root)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q, %v", line, err)
	}
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper: %v", err)
		}
	}
	t.Cleanup(release)
	return release
}

func TestLockAcrossProcesses(t *testing.T) {
	c := openTest(t)
	k := Key{"ubuntu", "24.04", "x86_64"}
	putImage(t, c, k, map[string]string{"vmlinuz": "k"}, t0.Add(-365*24*time.Hour))
	release := startHolder(t, c.Root())

	if _, ok, err := c.TryLock(k); ok || err != nil {
		t.Fatalf("TryLock while another process holds it = %v, %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.Lock(ctx, k); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while held = %v, want DeadlineExceeded", err)
	}
	// Remove waits for the lock too.
	ctx2, cancel2 := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel2()
	if err := c.Remove(ctx2, k); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Remove while held = %v, want DeadlineExceeded", err)
	}
	// Prune skips it and says so.
	removed, _, err := c.Prune(t.Context(), PrunePolicy{OlderThan: time.Hour}, false)
	var inUse *InUseError
	if len(removed) != 0 || !errors.Is(err, ErrInUse) || !errors.As(err, &inUse) || inUse.Images[0].Key != k {
		t.Fatalf("Prune while held = %v, %v", removed, err)
	}
	if _, err := os.Stat(c.Dir(k)); err != nil {
		t.Fatalf("image gone while in use: %v", err)
	}

	// A waiter gets the lock as soon as the holder lets go.
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		unlock, err := c.Lock(ctx, k)
		if err == nil {
			err = unlock()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Lock returned %v while the holder still runs", err)
	case <-time.After(250 * time.Millisecond):
	}
	release()
	if err := <-got; err != nil {
		t.Fatalf("Lock after the holder exited: %v", err)
	}
}

func TestLockInProcess(t *testing.T) {
	c := openTest(t)
	k := Key{"ubuntu", "24.04", "x86_64"}
	unlock, err := c.Lock(t.Context(), k)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.TryLock(k); ok {
		t.Fatal("second TryLock in the same process succeeded")
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatalf("second unlock: %v", err)
	}
	u2, ok, err := c.TryLock(k)
	if !ok || err != nil {
		t.Fatalf("TryLock after unlock = %v, %v", ok, err)
	}
	u2()

	ctx, cancel := contextCancelled(t)
	defer cancel()
	if _, err := c.Lock(ctx, k); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a cancelled context = %v", err)
	}
}

// A waiter blocked on an image that its holder removes must not end up
// holding a lock on the deleted file while a third party locks the new one.
func TestLockSurvivesRemove(t *testing.T) {
	c := openTest(t)
	k := Key{"ubuntu", "24.04", "x86_64"}
	putImage(t, c, k, map[string]string{"vmlinuz": "k"}, t0)
	holder, err := c.Lock(t.Context(), k)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func() error, 1)
	go func() {
		u, err := c.Lock(t.Context(), k)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	time.Sleep(150 * time.Millisecond)
	if err := c.removeLocked(k); err != nil {
		t.Fatal(err)
	}
	holder()
	waiter := <-got
	defer waiter()
	// The waiter holds the lock on the file now at the path.
	if _, ok, _ := c.TryLock(k); ok {
		t.Fatal("a third party got the lock the waiter holds")
	}
}
