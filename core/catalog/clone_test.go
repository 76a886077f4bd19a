package catalog

import "testing"

func TestCloneIsIndependent(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	cl := c.Clone()
	d, _ := cl.Distro("ubuntu")
	d.Base = "https://mirror.example/"
	d.Versions[0].EOL = "1999-01-01"
	d.Versions = append(d.Versions, &Version{Version: "99.04"})
	orig, _ := c.Distro("ubuntu")
	if orig.Base == d.Base || orig.Versions[0].EOL == "1999-01-01" || len(orig.Versions) == len(d.Versions) {
		t.Errorf("changing the clone changed the original: %+v", orig)
	}
}
