package catalog

import (
	"strconv"
	"strings"
)

// isNumericVersion reports whether v starts with a digit ("24.04", "10"),
// which sets it apart from rolling names such as "tumbleweed".
func isNumericVersion(v string) bool {
	if v == "" || !('0' <= v[0] && v[0] <= '9') {
		return false
	}
	_, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	return err == nil
}
