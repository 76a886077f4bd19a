package registry

// SetChunking lowers the chunked-push threshold and chunk size for a test.
func SetChunking(threshold, size int64) (restore func()) {
	t, s := chunkThreshold, chunkSize
	chunkThreshold, chunkSize = threshold, size
	return func() { chunkThreshold, chunkSize = t, s }
}

// RangeEnd exposes rangeEnd to the fuzz test.
var RangeEnd = rangeEnd
