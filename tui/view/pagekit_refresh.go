package view

// Refresher keeps a page's refetches calm: events ask for a refresh, which
// waits for a short quiet time (the page arms a timer when Want says so),
// and at most one fetch is in flight; a refresh asked for meanwhile runs
// once that one is done. It holds no timers or goroutines itself: the page
// owns its messages, so pages do not see each other's.
type Refresher struct {
	armed    bool // a debounce timer is running
	inFlight bool // a fetch runs
	again    bool // a refresh was asked for while one was in flight
}

// Want asks for a refresh after the quiet time. It reports whether the
// page must arm its debounce timer (false: one is already armed).
func (r *Refresher) Want() bool {
	if r.armed {
		return false
	}
	r.armed = true
	return true
}

// Fired is called when the debounce timer fires. It reports whether the
// page must start a fetch now (false: one is in flight; it runs again
// when that one is done).
func (r *Refresher) Fired() bool {
	r.armed = false
	return r.Now()
}

// Now asks for a refresh at once (the first fetch, a user's refresh key,
// after an action). It reports whether the page must start a fetch now.
func (r *Refresher) Now() bool {
	if r.inFlight {
		r.again = true
		return false
	}
	r.inFlight = true
	return true
}

// Done is called when a fetch has answered. It reports whether the page
// must start another at once (a refresh was asked for meanwhile).
func (r *Refresher) Done() bool {
	r.inFlight = false
	if r.again {
		r.again = false
		r.inFlight = true
		return true
	}
	return false
}

// InFlight reports whether a fetch runs.
func (r *Refresher) InFlight() bool { return r.inFlight }

// NoClientText is what a page shows when Env.Client is nil (a shell run
// without a master, as its tests do): it fetches nothing.
const NoClientText = "No master to ask: this TUI has no operator API client (cairn tui connects to --url)."
