package bus

import (
	"github.com/nats-io/nats-server/v2/server"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// User is an identity of the embedded NATS server.
type User struct {
	Name     string
	Password string
	// Permissions bound what it may publish and subscribe to (nil: all).
	Permissions *server.Permissions
}

// The roles of Cairn's NATS identities.
const (
	// RoleMaster may do anything: it owns the state, the update stream
	// and the cluster events.
	RoleMaster = "master"
	// RoleAgent registers and pings as an agent, sends its tasks'
	// messages and status updates, and receives agent commands.
	RoleAgent = "agent"
	// RoleFramework calls the master as a framework, receives framework
	// events, and keeps its own JetStream state — never the kernel's.
	RoleFramework = "framework"
)

// inbox is where replies (requests, JetStream acks, consumer deliveries)
// go.
const inbox = "_INBOX.>"

// Roles returns the permissions of each role (RoleMaster, RoleAgent,
// RoleFramework). protectedBuckets are more KV buckets that frameworks
// (which otherwise manage their own buckets freely) may not read or write,
// besides the kernel's (e.g. the package repository's).
func Roles(protectedBuckets ...string) map[string]*server.Permissions {
	// Only the master may touch its state and leader lease (KV buckets)
	// and the status update stream.
	buckets := append([]string{protocol.StateBucket, protocol.LeaderBucket}, protectedBuckets...)
	streams := []string{protocol.UpdatesStream, protocol.LegacyUpdatesStream}
	for _, b := range buckets {
		streams = append(streams, "KV_"+b)
	}
	// Every JetStream API subject naming a protected stream, and the
	// buckets' own subjects.
	var denyJS, denyKV []string
	for _, s := range streams {
		denyJS = append(denyJS,
			"$JS.API.STREAM.*."+s, "$JS.API.STREAM.MSG.*."+s,
			"$JS.API.CONSUMER.*."+s, "$JS.API.CONSUMER.*."+s+".>", "$JS.API.CONSUMER.MSG.NEXT."+s+".>",
			"$JS.API.CONSUMER.DURABLE.CREATE."+s+".>",
			"$JS.API.DIRECT.GET."+s, "$JS.API.DIRECT.GET."+s+".>",
			"$JS.ACK."+s+".>")
	}
	for _, b := range buckets {
		denyKV = append(denyKV, "$KV."+b+".>")
	}
	frameworkDeny := append(append([]string{
		protocol.Prefix + ".agent.>", protocol.Prefix + ".events.>", protocol.UpdatesWildcard,
	}, denyJS...), denyKV...)
	return map[string]*server.Permissions{
		RoleMaster: nil,
		RoleAgent: {
			Publish: &server.SubjectPermission{Allow: []string{
				protocol.AgentRegisterWildcard, protocol.AgentPingWildcard, protocol.AgentMessageWildcard,
				protocol.UpdatesWildcard, inbox,
			}},
			Subscribe: &server.SubjectPermission{Allow: []string{protocol.Prefix + ".agent.*.cmd", inbox}},
		},
		RoleFramework: {
			Publish: &server.SubjectPermission{
				Allow: []string{protocol.FrameworkCallWildcard, inbox, "$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "$KV.>"},
				Deny:  frameworkDeny,
			},
			Subscribe: &server.SubjectPermission{
				Allow: []string{protocol.Prefix + ".fw.*.events", inbox},
				Deny:  denyKV,
			},
		},
	}
}
