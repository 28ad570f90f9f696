// Package scheduler is Cairn's framework client library: what a framework
// (Cairn's own, or yours) imports to talk to the master over NATS.
//
// A framework subscribes, receives events, and makes calls:
//
//	fw, err := scheduler.Subscribe(ctx, scheduler.Config{
//		Conn:      nc, // a *nats.Conn, e.g. from nats.Connect or bus.Connect
//		Framework: protocol.FrameworkInfo{Name: "hello", Roles: []string{"*"}},
//	})
//	if err != nil { ... }
//	defer fw.Close()
//	for ev := range fw.Events() {
//		switch ev.Type {
//		case protocol.EventOffers:  // fw.Launch(ctx, offer, task) or fw.Decline(...)
//		case protocol.EventUpdate:  // task status (acknowledged for you)
//		}
//	}
//	// Events is closed: fw.Err() says why.
//
// # Identity and failover
//
// A framework picks its own ID: [Subscribe] generates one (a ULID) when
// Config.Framework.ID is empty. Save [Framework.ID] somewhere durable and
// pass it back in Config.Framework.ID after a restart: the master re-attaches
// the framework to its running tasks, as long as it comes back within its
// FailoverTimeout. After such a failover, and after every automatic
// re-subscription, the library asks the master for an implicit
// reconciliation, whose answers arrive as UPDATE events without a UUID.
//
// # Events
//
// [Framework.Events] delivers, in the order the master sent them, every
// event except HEARTBEAT (consumed by the library to watch the master).
// Each successful (re-)subscription is delivered as a SUBSCRIBED event made
// from the master's reply, first of all on the initial subscription: after a
// later SUBSCRIBED, offers received before it are void (the master may have
// changed). Events are queued without limit inside the library, so a slow
// consumer never loses an update; but a framework must keep reading.
//
// The channel is closed when the framework stops: after [Framework.Close] or
// [Framework.Teardown] (Err returns [ErrClosed]), after the master sent an
// ERROR event or refused to take the framework back (the ERROR is delivered
// first; Err wraps [ErrRemoved]), or when the NATS connection was closed.
//
// # Acknowledgements
//
// Status updates with a UUID must be acknowledged, or the master re-sends
// them. By default the library acknowledges an update the moment your code
// receives it from Events, without blocking: acknowledgements are pipelined
// (published with a reply inbox shared by all of them; refused ones are
// logged). A framework that must persist a status before acknowledging it
// sets Config.ManualAcknowledge and calls [Framework.AcknowledgeAsync] (or
// [Framework.Acknowledge]) itself. Updates can arrive more than once;
// acknowledging twice is harmless.
//
// # Liveness
//
// NATS has no connection the master can watch, so the library sends a
// HEARTBEAT call every heartbeat interval the master asked for. If no event
// (the master sends HEARTBEAT events too) arrives for three intervals, or a
// call is answered NOT_SUBSCRIBED (a master restarted or failed over), the
// library re-subscribes with the same framework ID, retrying with backoff,
// and then reconciles. Suppressed roles are kept across re-subscriptions.
//
// # Errors
//
// A call the master refuses returns an error wrapping a *[protocol.Error]:
//
//	var perr *protocol.Error
//	if errors.As(err, &perr) && perr.Code == protocol.ErrNotFound { ... }
//
// When no master answers, errors wrap [nats.ErrNoResponders] or
// [context.DeadlineExceeded]. Calls are validated by the master, which names
// the offending field in a BAD_REQUEST.
//
// All methods of [Framework] are safe for concurrent use; calls from several
// goroutines are pipelined on the one NATS connection.
package scheduler
