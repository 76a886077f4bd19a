//go:build !(linux || freebsd || openbsd || netbsd)

package gui

// notifier is nil: Fyne sends notifications where it draws the tray too.
func notifier() func(title, body string) { return nil }
