package qemuimg

// Available reports whether the qemu-img the Tool would run exists, so a
// front can offer conversion only where it can work.
func (t Tool) Available() bool {
	_, err := t.executable()
	return err == nil
}
