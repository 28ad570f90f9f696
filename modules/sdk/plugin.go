package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/cairn-dc/cairn/modules/sdk/modulepb"
)

// Plugin is the go-plugin plugin of a module. In a module, Serve builds it
// with the module's implementation; the host builds it with a nil Module and
// gets a *Client from go-plugin's Dispense(PluginName).
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Module is the implementation a module serves (nil in the host).
	Module Module
}

// PluginSet is the plugin set to give go-plugin: m is the module's
// implementation (nil in the host).
func PluginSet(m Module) plugin.PluginSet {
	return plugin.PluginSet{PluginName: &Plugin{Module: m}}
}

// GRPCServer registers the module's services (module side).
func (p *Plugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Module == nil {
		return errors.New("sdk.Plugin has no Module to serve: build it with sdk.PluginSet(yourModule) or call sdk.Serve")
	}
	srv := &moduleServer{impl: p.Module, broker: broker}
	modulepb.RegisterModuleServer(s, srv)
	if w, ok := p.Module.(Watcher); ok {
		modulepb.RegisterWatcherServer(s, &watcherServer{srv: srv, impl: w})
	}
	if h, ok := p.Module.(Hook); ok {
		modulepb.RegisterHookServer(s, &hookServer{srv: srv, impl: h})
	}
	return nil
}

// GRPCClient returns the host's *Client of the module (host side).
func (p *Plugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &Client{broker: broker, conn: conn, module: modulepb.NewModuleClient(conn),
		watcher: modulepb.NewWatcherClient(conn), hook: modulepb.NewHookClient(conn)}, nil
}

// ---- module side ----

// moduleServer serves the Module service and keeps the Host client that
// Configure dials.
type moduleServer struct {
	modulepb.UnimplementedModuleServer
	impl   Module
	broker *plugin.GRPCBroker

	mu   sync.Mutex
	host *hostClient
}

func (s *moduleServer) Info(context.Context, *modulepb.InfoRequest) (*modulepb.InfoResponse, error) {
	out := &modulepb.InfoResponse{SdkVersion: Version}
	for _, k := range kindsOf(s.impl) {
		out.Kinds = append(out.Kinds, kindToPB(k))
	}
	return out, nil
}

func (s *moduleServer) Configure(ctx context.Context, req *modulepb.ConfigureRequest) (*modulepb.ConfigureResponse, error) {
	conn, err := s.broker.Dial(req.GetHostBrokerId())
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "the module cannot reach the host's Host service (broker id %d): %v", req.GetHostBrokerId(), err)
	}
	host := &hostClient{conn: conn, client: modulepb.NewHostClient(conn)}
	s.mu.Lock()
	old := s.host
	s.host = host
	s.mu.Unlock()
	if old != nil {
		_ = old.conn.Close()
	}
	if err := s.impl.Configure(ctx, req.GetConfig()); err != nil {
		return nil, toStatus(ctx, codes.InvalidArgument, err)
	}
	return &modulepb.ConfigureResponse{}, nil
}

// hostFor returns the Host client, or an error when Configure has not run.
func (s *moduleServer) hostFor() (Host, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.host == nil {
		return nil, status.Error(codes.FailedPrecondition, "the module was not configured: the host must call Configure first")
	}
	return s.host, nil
}

// toStatus turns a module's error into a gRPC status carrying its message.
func toStatus(ctx context.Context, code codes.Code, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	return status.Error(code, err.Error())
}

type watcherServer struct {
	modulepb.UnimplementedWatcherServer
	srv  *moduleServer
	impl Watcher
}

// watchBuffer is how many events may wait for a slow Watch in the module
// before gRPC's flow control makes the host wait.
const watchBuffer = 64

func (s *watcherServer) Watch(stream grpc.BidiStreamingServer[modulepb.WatchRequest, modulepb.WatchResponse]) error {
	host, err := s.srv.hostFor()
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return err
	}
	snap := first.GetSnapshot()
	if snap == nil {
		return status.Error(codes.InvalidArgument, "the first message of Watch must be a snapshot")
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	events := make(chan Event, watchBuffer)
	go func() {
		defer close(events)
		for {
			msg, err := stream.Recv()
			if err != nil {
				return // io.EOF: the host closed its side; else the call ended
			}
			ev := msg.GetEvent()
			if ev == nil {
				continue
			}
			select {
			case events <- EventFromPB(ev):
			case <-ctx.Done():
				return
			}
		}
	}()
	if err := s.impl.Watch(ctx, host, SnapshotFromPB(snap), events); err != nil {
		return toStatus(ctx, codes.Aborted, err)
	}
	return nil
}

type hookServer struct {
	modulepb.UnimplementedHookServer
	srv  *moduleServer
	impl Hook
}

func (s *hookServer) BeforeLaunch(ctx context.Context, req *modulepb.BeforeLaunchRequest) (*modulepb.BeforeLaunchResponse, error) {
	host, err := s.srv.hostFor()
	if err != nil {
		return nil, err
	}
	ch, err := s.impl.BeforeLaunch(ctx, host, launchInfoFromPB(req.GetTask()))
	if err != nil {
		return nil, toStatus(ctx, codes.Aborted, err)
	}
	return &modulepb.BeforeLaunchResponse{Env: copyMap(ch.Env), Labels: copyMap(ch.Labels)}, nil
}

// hostClient is the module's Host: calls to the host's Host service.
type hostClient struct {
	conn   *grpc.ClientConn
	client modulepb.HostClient
}

func (h *hostClient) Log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) error {
	req := &modulepb.LogRequest{Level: int32(level), Message: msg}
	for _, a := range attrs {
		req.Attrs = appendAttr(req.Attrs, "", a)
	}
	if _, err := h.client.Log(ctx, req); err != nil {
		return hostCallError(ctx, "logging through the host", err)
	}
	return nil
}

func (h *hostClient) Snapshot(ctx context.Context) (Snapshot, error) {
	res, err := h.client.Snapshot(ctx, &modulepb.SnapshotRequest{})
	if err != nil {
		return Snapshot{}, hostCallError(ctx, "reading the host's snapshot", err)
	}
	return SnapshotFromPB(res.GetSnapshot()), nil
}

// appendAttr flattens an attribute (groups become dotted keys).
func appendAttr(out []*modulepb.Attr, prefix string, a slog.Attr) []*modulepb.Attr {
	v := a.Value.Resolve()
	key := a.Key
	if prefix != "" && key != "" {
		key = prefix + "." + key
	} else if prefix != "" {
		key = prefix
	}
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			out = appendAttr(out, key, g)
		}
		return out
	}
	if key == "" {
		return out
	}
	return append(out, &modulepb.Attr{Key: key, Value: v.String()})
}

// ---- host side ----

// Client is the host's handle on one running module, from go-plugin's
// Dispense(PluginName). It is safe for concurrent use.
type Client struct {
	broker  *plugin.GRPCBroker
	conn    *grpc.ClientConn
	module  modulepb.ModuleClient
	watcher modulepb.WatcherClient
	hook    modulepb.HookClient
}

// Info is what a module says about itself.
type Info struct {
	Kinds      []Kind
	SDKVersion string
}

// Serves reports whether the module serves kind k.
func (i Info) Serves(k Kind) bool {
	for _, x := range i.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Info asks the module which kinds it serves.
func (c *Client) Info(ctx context.Context) (Info, error) {
	res, err := c.module.Info(ctx, &modulepb.InfoRequest{})
	if err != nil {
		return Info{}, callError(ctx, "asking the module what it serves (Info)", err)
	}
	out := Info{SDKVersion: res.GetSdkVersion()}
	for _, k := range res.GetKinds() {
		out.Kinds = append(out.Kinds, kindFromPB(k))
	}
	return out, nil
}

// Configure serves host to the module (over the go-plugin broker, until the
// module's process ends) and hands the module its name and configuration.
func (c *Client) Configure(ctx context.Context, name string, host Host, config []byte) error {
	if host == nil {
		return errors.New("sdk.Client.Configure: host is nil; give the module a Host to call back")
	}
	id := c.broker.NextId()
	go c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		modulepb.RegisterHostServer(s, &hostServer{impl: host})
		return s
	})
	if _, err := c.module.Configure(ctx, &modulepb.ConfigureRequest{Config: config, HostBrokerId: id, Name: name}); err != nil {
		return callError(ctx, "configuring the module", err)
	}
	return nil
}

// ErrWatchEnded is returned by Client.Watch when the module ended the
// watch by itself, without an error, while the host was still streaming.
var ErrWatchEnded = errors.New("the module ended Watch while events were still coming (a watcher must return only when its events channel is closed)")

// watchCloseGrace bounds how long Client.Watch waits, once it closed the
// stream, for the module's Watch to return.
const watchCloseGrace = 30 * time.Second

// Watch streams snapshot and then events to the module until events is
// closed (then it returns nil once the module's Watch has returned), ctx
// ends (ctx's error), or the module ends the watch (ErrWatchEnded, or the
// module's error).
func (c *Client) Watch(ctx context.Context, snapshot Snapshot, events <-chan Event) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.watcher.Watch(ctx)
	if err != nil {
		return callError(ctx, "starting Watch", err)
	}
	ended := make(chan error, 1)
	go func() {
		for {
			if _, err := stream.Recv(); err != nil {
				ended <- err
				return
			}
		}
	}()
	watchEnded := func(err error) error {
		if errors.Is(err, io.EOF) {
			return ErrWatchEnded
		}
		return callError(ctx, "the module's Watch failed", err)
	}
	if err := stream.Send(&modulepb.WatchRequest{Message: &modulepb.WatchRequest_Snapshot{Snapshot: SnapshotToPB(snapshot)}}); err != nil {
		return watchEnded(<-ended)
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				if err := stream.CloseSend(); err != nil {
					return callError(ctx, "closing Watch", err)
				}
				t := time.NewTimer(watchCloseGrace)
				defer t.Stop()
				select {
				case err := <-ended:
					if errors.Is(err, io.EOF) {
						return nil
					}
					return callError(ctx, "the module's Watch failed", err)
				case <-t.C:
					return fmt.Errorf("the module did not return from Watch within %s of its events channel closing (a watcher must return when events is closed)", watchCloseGrace)
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if err := stream.Send(&modulepb.WatchRequest{Message: &modulepb.WatchRequest_Event{Event: EventToPB(ev)}}); err != nil {
				// Send reports io.EOF when the call ended; Recv has why.
				return watchEnded(<-ended)
			}
		case err := <-ended:
			return watchEnded(err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// BeforeLaunch asks a hook module for its changes to a task.
func (c *Client) BeforeLaunch(ctx context.Context, task TaskLaunchInfo) (LaunchChanges, error) {
	res, err := c.hook.BeforeLaunch(ctx, &modulepb.BeforeLaunchRequest{Task: launchInfoToPB(task)})
	if err != nil {
		return LaunchChanges{}, callError(ctx, "BeforeLaunch", err)
	}
	return LaunchChanges{Env: copyMap(res.GetEnv()), Labels: copyMap(res.GetLabels())}, nil
}

// Ping checks the module's gRPC health service (which go-plugin serves).
func (c *Client) Ping(ctx context.Context) error {
	res, err := grpc_health_v1.NewHealthClient(c.conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName})
	if err != nil {
		return callError(ctx, "health check", err)
	}
	if res.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		return fmt.Errorf("health check: the module reports %s", res.GetStatus())
	}
	return nil
}

// hostServer serves a Host to one module.
type hostServer struct {
	modulepb.UnimplementedHostServer
	impl Host
}

func (s *hostServer) Log(ctx context.Context, req *modulepb.LogRequest) (*modulepb.LogResponse, error) {
	attrs := make([]slog.Attr, 0, len(req.GetAttrs()))
	for _, a := range req.GetAttrs() {
		attrs = append(attrs, slog.String(a.GetKey(), a.GetValue()))
	}
	if err := s.impl.Log(ctx, slog.Level(req.GetLevel()), req.GetMessage(), attrs...); err != nil {
		return nil, toStatus(ctx, codes.Internal, err)
	}
	return &modulepb.LogResponse{}, nil
}

func (s *hostServer) Snapshot(ctx context.Context, _ *modulepb.SnapshotRequest) (*modulepb.SnapshotResponse, error) {
	snap, err := s.impl.Snapshot(ctx)
	if err != nil {
		return nil, toStatus(ctx, codes.Unavailable, err)
	}
	return &modulepb.SnapshotResponse{Snapshot: SnapshotToPB(snap)}, nil
}

// RemoteError is an error that crossed the plugin boundary: the other
// side's message and gRPC code.
type RemoteError struct {
	Code    codes.Code
	Message string
}

func (e *RemoteError) Error() string {
	switch e.Code {
	case codes.Unknown, codes.Aborted, codes.InvalidArgument:
		return e.Message
	}
	return e.Message + " (" + e.Code.String() + ")"
}

// GRPCStatus lets status.FromError see the original status.
func (e *RemoteError) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// callError wraps a gRPC call's error: ctx's own error when it ended, else
// a *RemoteError with the other side's message.
func callError(ctx context.Context, what string, err error) error {
	return callErrorFrom(ctx, "module", what, err)
}

// hostCallError is callError for the module's calls to the host.
func hostCallError(ctx context.Context, what string, err error) error {
	return callErrorFrom(ctx, "host", what, err)
}

func callErrorFrom(ctx context.Context, peer, what string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", what, ctxErr)
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", what, err)
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		// The other side's copy of the deadline may fire first.
		return fmt.Errorf("%s: %w", what, context.DeadlineExceeded)
	case codes.Canceled:
		return fmt.Errorf("%s: %w", what, context.Canceled)
	}
	if st.Code() == codes.Unavailable {
		return fmt.Errorf("%s: the %s's connection is gone (did its process exit?): %w", what, peer, &RemoteError{Code: st.Code(), Message: st.Message()})
	}
	return fmt.Errorf("%s: %w", what, &RemoteError{Code: st.Code(), Message: st.Message()})
}
