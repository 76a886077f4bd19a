package boot

import (
	xfslog "github.com/masahiro331/go-xfs-filesystem/log"
	"go.uber.org/zap"
)

// The XFS reader logs debug output to stderr by default; a library must
// not write to the program's terminal.
func init() {
	xfslog.SetLogger(zap.NewNop().Sugar())
}
