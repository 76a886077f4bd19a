package ui

import (
	"context"
	"time"

	"vmimages/core"
)

// StartAutoRefresh keeps the catalog current while the window lives, on
// schedule s (core.DefaultRefreshSchedule: a minute after start when the
// last refresh is older than a day, then daily, backing off while offline).
// After each refresh the catalog shows what it found and when, and the
// cached images are checked for new builds, which the catalog and the tray
// mark. Call it on Fyne's thread after Attach.
func (u *UI) StartAutoRefresh(s core.RefreshSchedule, clock core.Clock) {
	if u.m == nil {
		return
	}
	ar := u.m.AutoRefresh(s, clock, func(res core.RefreshResult, err error, next time.Time) {
		u.do(func() { u.cat.autoRefreshed(res, err, next) })
	})
	ar.Refresh = func(ctx context.Context) (core.RefreshResult, error) {
		u.netMu.Lock() // the refresh changes the catalog an update check reads
		defer u.netMu.Unlock()
		return u.m.RefreshCatalog(ctx)
	}
	go ar.Run(u.ctx)
}

// autoRefreshed shows a background refresh's outcome, unless the user's own
// refresh is under way (its outcome follows), then looks for new builds.
func (c *catalogView) autoRefreshed(res core.RefreshResult, err error, next time.Time) {
	if c.refreshing {
		return
	}
	c.rebuild(res.Changes.Added)
	c.showSource()
	text, imp := refreshSummary(res, err)
	setLabel(c.refreshLine, "Checked upstream at "+res.Source.Refreshed.Local().Format("15:04")+": "+text+
		" Next check "+next.Local().Format("Mon 15:04")+".", imp)
	if res.Offline || res.Source.Refreshed.IsZero() {
		setLabel(c.refreshLine, text+" Trying again "+next.Local().Format("Mon 15:04")+".", imp)
	}
	c.refreshLine.Show()
	c.left.Refresh()
	c.u.checkUpdates()
}
