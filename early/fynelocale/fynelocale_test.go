package fynelocale

import (
	"os"
	"testing"
)

func TestNormalized(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		want     string
		changing bool
	}{
		{"C.UTF-8", map[string]string{"LANG": "C.UTF-8"}, "en", true},
		{"C", map[string]string{"LANG": "C"}, "", false},
		{"POSIX", map[string]string{"LANG": "POSIX"}, "", false},
		{"unset", map[string]string{}, "", false},
		{"English", map[string]string{"LANG": "en_US.UTF-8"}, "", false},
		{"German", map[string]string{"LANG": "de_DE.UTF-8"}, "", false},
		{"LC_ALL wins", map[string]string{"LANG": "de_DE.UTF-8", "LC_ALL": "C.UTF-8"}, "en", true},
		{"LANGUAGE keeps good entries", map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "fr_FR:C:de"}, "fr-FR:de", true},
		{"LANGUAGE all good", map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "fr:de"}, "", false},
		{"garbage", map[string]string{"LANG": "!@#"}, "en", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"} {
				t.Setenv(k, tc.env[k])
				if _, ok := tc.env[k]; !ok {
					os.Unsetenv(k)
				}
			}
			got, changing := normalized()
			if got != tc.want || changing != tc.changing {
				t.Errorf("normalized() = %q, %v; want %q, %v", got, changing, tc.want, tc.changing)
			}
		})
	}
}

func TestRestore(t *testing.T) {
	t.Setenv("LANGUAGE", "")
	os.Unsetenv("LANGUAGE")
	saved.changed, saved.set, saved.value = true, false, ""
	os.Setenv("LANGUAGE", "en")
	Restore()
	if v, ok := os.LookupEnv("LANGUAGE"); ok {
		t.Errorf("LANGUAGE = %q after Restore, want it unset", v)
	}
	saved.changed, saved.set, saved.value = true, true, "C"
	os.Setenv("LANGUAGE", "en")
	Restore()
	if v := os.Getenv("LANGUAGE"); v != "C" {
		t.Errorf("LANGUAGE = %q after Restore, want C", v)
	}
}
