package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"vmimages/core"
	"vmimages/core/cache"
)

// updateCheckEvery is how often the cached images are checked for newer
// builds upstream while the app runs.
const updateCheckEvery = 6 * time.Hour

// updateState is what the update checks found; it lives on Fyne's thread.
type updateState struct {
	found    map[cache.Key]core.Update // newer builds upstream, by image
	started  int                       // checks started so far
	checking bool                      // a check runs now
	again    bool                      // another check was asked for meanwhile
	errLine  string                    // why the last check failed, one line; "" when it did not
	asked    map[cache.Key]int         // images whose outcome the catalog waits for → the check that answers
	notes    map[cache.Key]updateNote  // the catalog's "Check for update" outcome per image
}

// updateNote is the outcome of a check the user asked for, kept while the
// image still has the build it was about.
type updateNote struct {
	build, text string
}

func newUpdateState() updateState {
	return updateState{found: map[cache.Key]core.Update{}, asked: map[cache.Key]int{}, notes: map[cache.Key]updateNote{}}
}

// updateLoop asks for an update check every interval until the UI closes.
func (u *UI) updateLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-u.ctx.Done():
			return
		case <-t.C:
			u.do(u.checkUpdates)
		}
	}
}

// checkUpdates looks upstream for newer builds of the cached images, in a
// goroutine. While a check runs, a new request makes one more run after it,
// never two at once. Call it on Fyne's thread.
func (u *UI) checkUpdates() {
	if u.m == nil || u.ctx.Err() != nil {
		return
	}
	if u.upd.checking {
		u.upd.again = true
		return
	}
	u.upd.checking = true
	u.upd.started++
	n := u.upd.started
	go func() {
		u.netMu.Lock()
		ups, err := u.m.CheckUpdates(u.ctx)
		u.netMu.Unlock()
		if u.ctx.Err() != nil {
			return
		}
		u.do(func() { u.updatesChecked(n, ups, err) })
	}()
	u.showUpdates()
}

// checkUpdateOf runs a check on behalf of the catalog's "Check for update"
// for image k; its outcome is noted for k once a check that started after
// the request ends.
func (u *UI) checkUpdateOf(k cache.Key) {
	delete(u.upd.notes, k)
	if u.upd.checking {
		u.upd.asked[k] = u.upd.started + 1 // the next one: the running one may predate the image
		u.upd.again = true
		u.showUpdates()
		return
	}
	u.upd.asked[k] = u.upd.started + 1
	u.checkUpdates()
}

// updatesChecked installs the outcome of check n.
func (u *UI) updatesChecked(n int, ups []core.Update, err error) {
	u.upd.checking = false
	errs := splitErrors(err)
	failed := map[cache.Key]string{} // image → why its check failed
	for _, e := range errs {
		if k, why, ok := u.keyOfError(e); ok {
			failed[k] = why
		}
	}
	found := map[cache.Key]core.Update{}
	for _, up := range ups {
		found[up.Key] = up
	}
	whole := err != nil && len(failed) < len(errs) // the check itself failed, not one image
	for k, up := range u.upd.found {
		if _, ok := failed[k]; ok || whole {
			if _, ok := found[k]; !ok {
				found[k] = up // not known to be gone: keep what an earlier check found
			}
		}
	}
	u.upd.found = found

	u.upd.errLine = ""
	if err != nil && !errors.Is(err, context.Canceled) {
		msg := u.describeCheckError(errs[0])
		if len(errs) > 1 {
			msg += " (and " + plural(len(errs)-1, "other image", "other images") + ")"
		}
		u.upd.errLine = "Could not check for updates: " + msg
	}

	for k, want := range u.upd.asked {
		if want > n {
			continue // waits for the check after this one
		}
		delete(u.upd.asked, k)
		im, ok := u.imagesByKey[k]
		if !ok {
			continue
		}
		note := updateNote{build: im.Build}
		switch why, bad := failed[k]; {
		case bad:
			note.text = "Could not check for a newer build: " + why
		case whole:
			note.text = "Could not check for a newer build: " + oneLine(errs[0].Error())
		default:
			if _, ok := found[k]; ok {
				continue // the state offers the update
			}
			note.text = "This is the newest build upstream."
		}
		u.upd.notes[k] = note
	}
	u.showUpdates()
	if u.upd.again {
		u.upd.again = false
		u.checkUpdates()
	}
}

// showUpdates brings every view that shows updates up to date.
func (u *UI) showUpdates() {
	if u.cv == nil {
		return
	}
	u.cv.updatesChanged()
	u.cat.updateJobs()
	u.tray.rebuild(false)
}

// updateFor is the newer build upstream of cached image k, when the last
// check found one and the cache still holds the build it was compared with.
func (u *UI) updateFor(k cache.Key) (core.Update, bool) {
	up, ok := u.upd.found[k]
	if !ok {
		return core.Update{}, false
	}
	im, ok := u.imagesByKey[k]
	if !ok || im.State != cache.StateReady || im.Build != up.Current {
		return core.Update{}, false
	}
	return up, true
}

// pendingUpdates lists the cached images with a newer build upstream, in
// cache order.
func (u *UI) pendingUpdates() []cache.Key {
	var out []cache.Key
	for _, im := range u.images {
		if _, ok := u.updateFor(im.Key); ok {
			out = append(out, im.Key)
		}
	}
	return out
}

// updateNoteFor is what the last check the user asked for said about k.
func (u *UI) updateNoteFor(k cache.Key) string {
	n, ok := u.upd.notes[k]
	if !ok {
		return ""
	}
	if im, listed := u.imagesByKey[k]; !listed || im.Build != n.build {
		return ""
	}
	return n.text
}

// pullUpdate fetches the newer build of cached image k; the old build stays
// until the new one is verified. raw also converts it; an image that has a
// raw disk keeps one.
func (u *UI) pullUpdate(k cache.Key, raw bool) {
	if im, ok := u.imagesByKey[k]; ok && im.Meta != nil && im.Meta.DiskRaw != nil {
		raw = true
	}
	delete(u.upd.notes, k)
	u.pull(refOf(k), core.PullOptions{Update: true, Raw: raw})
}

// updateLabel is what an image's update looks like in a sentence.
func updateLabel(up core.Update) string {
	if up.Latest == up.Current {
		return "Build " + up.Latest + " was republished upstream with other files."
	}
	return "Newer build " + up.Latest + " available upstream."
}

// splitErrors lists the errors joined in err.
func splitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return slices.DeleteFunc(slices.Clone(j.Unwrap()), func(e error) bool { return e == nil })
	}
	return []error{err}
}

// keyOfError finds the cached image an error of CheckUpdates is about: it
// names it first ("debian/12/x86_64: …").
func (u *UI) keyOfError(e error) (cache.Key, string, bool) {
	name, why, ok := strings.Cut(e.Error(), ": ")
	if !ok {
		return cache.Key{}, "", false
	}
	for k := range u.imagesByKey {
		if k.String() == name {
			return k, oneLine(why), true
		}
	}
	return cache.Key{}, "", false
}

// describeCheckError is one failure of a check, for the footer.
func (u *UI) describeCheckError(e error) string {
	if k, why, ok := u.keyOfError(e); ok {
		return u.imageTitle(k) + ": " + why
	}
	return oneLine(e.Error())
}

// oneLine keeps the first line of s.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
