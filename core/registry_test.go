package core

import (
	"context"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote/credentials"

	"vmimages/core/catalog"
	"vmimages/internal/registrytest"
)

// The Manager against a real registry (Debian's docker-registry on
// 127.0.0.1): what a front sees in a job's snapshot.
func TestManagerPushPullThroughRegistry(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	srv, _ := debianMirror(t)
	ref := catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}
	store := func(o *Options) { o.RegistryCredentials = credentials.NewMemoryStore() }
	src := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, store)
	if _, err := wait(t, src.Pull(context.Background(), ref, PullOptions{})); err != nil {
		t.Fatal(err)
	}
	var sawUpload bool
	res, err := src.Push(context.Background(), ref, reg.Ref("lab"), func(p PushProgress) {
		sawUpload = sawUpload || p.Phase == PhaseDownloading && p.Role == "disk" && !p.Skipped
	})
	if err != nil || !sawUpload || res.Repository != reg.Host+"/lab/debian" {
		t.Fatalf("push = %+v, %v (upload reported: %v)", res, err, sawUpload)
	}

	// A fresh cache, upstream gone: the job says where the bytes came from.
	srv.Close()
	dst := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, func(o *Options) { store(o); o.Registry = reg.Ref("lab") })
	j := dst.Pull(context.Background(), ref, PullOptions{})
	img, err := wait(t, j)
	if err != nil {
		t.Fatal(err)
	}
	if s := j.Snapshot(); s.Source != reg.Ref("lab") || len(s.Notices) != 0 || img.Build != res.Tags[1][len("12-x86_64-"):] {
		t.Errorf("snapshot source %q, notices %v, build %s", s.Source, s.Notices, img.Build)
	}

	// The registry gone too: a notice, and the upstream error.
	reg.Stop()
	other := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, func(o *Options) { store(o); o.Registry = reg.Ref("lab") })
	j = other.Pull(context.Background(), ref, PullOptions{})
	if _, err := wait(t, j); err == nil {
		t.Fatal("pull with registry and upstream down succeeded")
	}
	if s := j.Snapshot(); s.Source != SourceUpstream || len(s.Notices) != 1 || !strings.Contains(s.Notices[0], "pulled from upstream instead") {
		t.Errorf("snapshot source %q, notices %v", s.Source, s.Notices)
	}
}
