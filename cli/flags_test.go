package cli

import "testing"

func TestGlobalFlagsRepeatable(t *testing.T) {
	r := &runner{}
	r.g.cacheDir = "/tmp/my cache"
	r.g.config = "/etc/vm.toml"
	r.g.mirrors = mirrorFlag{"debian": "http://127.0.0.1:8/d/", "alpine": "https://m/a'b/"}
	want := ` --cache-dir '/tmp/my cache' --config /etc/vm.toml --mirror 'alpine=https://m/a'\''b/' --mirror debian=http://127.0.0.1:8/d/`
	if got := r.globalFlags(); got != want {
		t.Errorf("globalFlags() =\n%s\nwant\n%s", got, want)
	}
	if (&runner{}).globalFlags() != "" {
		t.Error("no flags given: nothing to repeat")
	}
}
