package trust

import "testing"

func TestHasAny(t *testing.T) {
	k, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fps  []string
		want bool
	}{
		{[]string{"D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81"}, true},
		{[]string{"d2eb 4462 6fdd c30b 513d  5bb7 1a5d 6c4c 7db8 7c81"}, true},
		{[]string{"1B9A16984A4E8CB448712D2AE0B78BF4326C6F8F"}, true}, // arch-boxes, pinned
		{[]string{"not hex", "36F612DCF27F7D1A48A835E4DBFCF71C6D9F90A6"}, true},
		{[]string{"nothex"}, false},
		{nil, false}, // no key named is no key
	} {
		if got := k.HasAny(tc.fps); got != tc.want {
			t.Errorf("HasAny(%q) = %v, want %v", tc.fps, got, tc.want)
		}
	}
	if (&Keyring{}).HasAny(nil) {
		t.Error("an empty ring has no key")
	}
}
