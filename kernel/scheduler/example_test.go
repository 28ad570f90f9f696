package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
	"github.com/cairn-dc/cairn/kernel/scheduler"
)

// A complete tiny framework: it runs `echo hello` once on the first offer
// that fits, prints the task's updates until it finishes, and tears itself
// down. It needs a running cluster (`cairn up`), so it has no Output.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	nc, err := nats.Connect(nats.DefaultURL) // the cluster's NATS
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()

	fw, err := scheduler.Subscribe(ctx, scheduler.Config{
		Conn: nc,
		Framework: protocol.FrameworkInfo{
			Name:            "hello",
			FailoverTimeout: 60, // seconds the master keeps our tasks if we vanish
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer fw.Close() // leaves the framework for a failover; Teardown removes it
	fmt.Println("subscribed as", fw.ID())

	task := scheduler.Task(scheduler.NewTaskID("hello"), "hello",
		resources.MustParse("cpus:0.1;mem:32"), "echo hello")
	launched := false

	for {
		var ev protocol.Event
		select {
		case <-ctx.Done():
			return // Ctrl-C: the deferred Close keeps the task for a failover
		case e, ok := <-fw.Events():
			if !ok {
				log.Fatal(fw.Err()) // the master removed us
			}
			ev = e
		}

		switch ev.Type {
		case protocol.EventOffers:
			for _, offer := range ev.Offers.Offers {
				if launched || !offer.Resources.Contains(task.Resources) {
					// Give it back, and don't offer it to us again for a minute.
					if err := fw.Decline(ctx, []protocol.OfferID{offer.ID}, scheduler.Refuse(time.Minute)); err != nil {
						log.Print(err)
					}
					continue
				}
				rejected, err := fw.Launch(ctx, offer, task)
				var perr *protocol.Error
				switch {
				case errors.As(err, &perr) && perr.Code == protocol.ErrNotFound:
					continue // the offer was rescinded meanwhile: wait for another
				case err != nil:
					log.Fatal(err)
				case len(rejected) > 0:
					log.Fatalf("task rejected: %s", rejected[0].Message)
				}
				launched = true
				_ = fw.Suppress(ctx) // no more offers, please
			}

		case protocol.EventUpdate:
			// Acknowledged by the library as we receive it.
			st := ev.Update.Status
			if st.TaskID != task.TaskID {
				continue
			}
			fmt.Println(st.TaskID, st.State, st.Message)
			if st.State.Terminal() {
				if err := fw.Teardown(ctx); err != nil {
					log.Fatal(err)
				}
				return
			}
		}
	}
}
