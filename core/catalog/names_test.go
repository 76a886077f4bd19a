package catalog

import "testing"

func TestNamePatterns(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref      Ref
		role     string
		ok, fail []string
	}{
		{Ref{"ubuntu", "24.04", "x86_64"}, RoleDisk,
			[]string{"ubuntu-24.04-server-cloudimg-amd64.img"},
			[]string{"ubuntu-22.04-server-cloudimg-amd64.img", "ubuntu-24.04-server-cloudimg-arm64.img", "ubuntu-24.04-server-cloudimg-amd64.img.bak"}},
		{Ref{"ubuntu", "24.04", "x86_64"}, RoleKernel,
			[]string{"ubuntu-24.04-server-cloudimg-amd64-vmlinuz-generic"}, []string{"ubuntu-22.04-server-cloudimg-amd64-vmlinuz-generic"}},
		{Ref{"debian", "12", "x86_64"}, RoleDisk,
			[]string{"debian-12-genericcloud-amd64-20260810-2566.qcow2"},
			[]string{"debian-13-genericcloud-amd64-20260810-2566.qcow2", "debian-12-genericcloud-arm64-20260810-2566.qcow2"}},
		{Ref{"fedora", "44", "aarch64"}, RoleDisk,
			[]string{"Fedora-Cloud-Base-Generic-44-1.7.aarch64.qcow2"}, []string{"Fedora-Cloud-Base-Generic-43-1.6.aarch64.qcow2"}},
	} {
		pats, err := c.NamePatterns(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		re := pats[tc.role]
		if re == nil {
			t.Fatalf("%v: no pattern for %s: %v", tc.ref, tc.role, pats)
		}
		for _, n := range tc.ok {
			if !re.MatchString(n) {
				t.Errorf("%v %s: %q should match %s", tc.ref, tc.role, n, re)
			}
		}
		for _, n := range tc.fail {
			if re.MatchString(n) {
				t.Errorf("%v %s: %q should not match %s", tc.ref, tc.role, n, re)
			}
		}
	}
}
