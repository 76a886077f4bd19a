package cli_test

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"vmimages/internal/mirrortest"
)

// catalog --refresh says per distribution what upstream has, and one that
// fails (Rocky's mirror answers 500 here) is reported without stopping the
// others; what the others found shows in the catalog.
func TestCatalogRefreshPerDistro(t *testing.T) {
	s := newSandbox(t)
	srv := mirrortest.New(t)
	for name, p := range map[string]string{
		"index.json": "/ubuntu/streams/v1/index.json",
		"com.ubuntu.cloud-released-download.json": "/ubuntu/streams/v1/com.ubuntu.cloud:released:download.json",
	} {
		b, err := os.ReadFile("../core/discover/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		srv.Put(p, b)
	}
	for _, p := range []string{"/fedora/44/x", "/fedora/45/x", "/alpine/v3.24/x", "/alpine/v3.25/x", "/almalinux/8/x", "/almalinux/9/x", "/almalinux/10/x"} {
		srv.Put(p, []byte("x"))
	}
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/rocky/") {
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
			return true
		}
		return false
	})
	var args []string
	for _, d := range []string{"ubuntu", "fedora", "alpine", "rocky", "almalinux"} {
		args = append(args, "--mirror", d+"="+srv.URL+"/"+d+"/")
	}
	r := s.run(append([]string{"catalog", "--refresh", "--json"}, args...)...).ok(t)
	doc := r.jsonDoc(t)
	got := map[string]object{}
	var order []string
	for _, d := range objects(t, doc, "refresh") {
		id, _ := d["id"].(string)
		got[id] = d
		order = append(order, id)
	}
	if !slices.Equal(order, []string{"ubuntu", "fedora", "almalinux", "rocky", "alpine"}) {
		t.Errorf("refresh reports %q, want one per refreshable distro in catalog order", order)
	}
	if e, _ := got["rocky"]["error"].(string); !strings.Contains(e, "500") {
		t.Errorf("rocky = %v, want its failure", got["rocky"])
	}
	for id, want := range map[string]string{"ubuntu": "26.10", "fedora": "45", "alpine": "3.25", "almalinux": "8"} {
		found, _ := got[id]["found"].([]any)
		if got[id]["error"] != nil || !slices.Contains(found, any(want)) {
			t.Errorf("%s = %v, want %s found and no error", id, got[id], want)
		}
	}
	if !strings.Contains(r.stderr, "rocky: failed") || !strings.Contains(r.stderr, "fedora: upstream has") {
		t.Errorf("stderr should say per distribution what was found and what failed\n%s", r)
	}
	// What the others found is in the catalog now; Rocky keeps its entries.
	text := s.run(append([]string{"catalog"}, args...)...).ok(t).stdout
	for _, want := range []string{"fedora         45", "alpine         3.25", "rocky          10"} {
		if !strings.Contains(text, want) {
			t.Errorf("catalog lacks %q after the refresh:\n%s", want, text)
		}
	}
}

// vmimages catalog lists the releases that came out or are still supported
// (Ubuntu 26.10, AlmaLinux 8, Rocky 8, Alpine 3.24), each with its own
// signature kind: AlmaLinux signs 8 and 9, not 10.
func TestCatalogShowsCurrentReleases(t *testing.T) {
	s := newSandbox(t)
	doc := s.run("catalog", "--json").ok(t).jsonDoc(t)
	type rel struct{ codename, signature string }
	got := map[string]rel{}
	for _, d := range objects(t, doc, "distros") {
		for _, v := range objects(t, d, "versions") {
			c, _ := v["codename"].(string)
			sig, _ := v["signature"].(string)
			got[d["id"].(string)+" "+v["version"].(string)] = rel{c, sig}
		}
	}
	for k, want := range map[string]rel{
		"ubuntu 26.10": {"stonking", "detached"},
		"almalinux 8":  {"", "detached"},
		"almalinux 9":  {"", "detached"},
		"almalinux 10": {"", "none"},
		"rocky 8":      {"", "none"},
		"alpine 3.24":  {"", "none"},
		"arch rolling": {"", "detached"},
		"fedora 44":    {"", "clearsigned"},
	} {
		if g, ok := got[k]; !ok || g != want {
			t.Errorf("%s = %+v (listed %v), want %+v", k, g, ok, want)
		}
	}
	text := s.run("catalog", "almalinux").ok(t).stdout
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "almalinux      10") && !strings.Contains(line, "no (checksum over HTTPS)") ||
			strings.HasPrefix(line, "almalinux      9 ") && !strings.Contains(line, "yes (detached)") {
			t.Errorf("catalog line %q says the wrong signature", line)
		}
	}
}
