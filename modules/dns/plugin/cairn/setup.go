package cairn

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"

	"github.com/cairn-dc/cairn/modules/dns/records"
)

// init does what CoreDNS requires of a plugin, and nothing else: it
// registers the setup function in CoreDNS' (process-wide) plugin registry
// and puts the directive in dnsserver.Directives, the (process-wide)
// execution order, just before "file" — after errors, log, cache and the
// like, before forward.
func init() {
	plugin.Register(Name, setup)
	if !slices.Contains(dnsserver.Directives, Name) {
		i := slices.Index(dnsserver.Directives, "file")
		if i < 0 {
			i = len(dnsserver.Directives)
		}
		if err := dnsserver.SetDirectives(slices.Insert(slices.Clone(dnsserver.Directives), i, Name)); err != nil {
			panic(err) // only on an empty or duplicate name: a bug
		}
	}
}

// Input is a Corefile that carries the record stores its cairn
// directives name (store NAME; "default" when absent). Pass it to
// caddy.Start: CoreDNS keeps it with the instance it starts, and the
// plugin's setup finds it there. This is how a store reaches a plugin
// that CoreDNS instantiates from text, without any registry of our own.
type Input struct {
	Corefile []byte
	Stores   map[string]*records.Store
}

// Body implements caddy.Input.
func (i *Input) Body() []byte { return i.Corefile }

// Path implements caddy.Input.
func (i *Input) Path() string { return "Corefile" }

// ServerType implements caddy.Input.
func (i *Input) ServerType() string { return "dns" }

// probe is a unique key the setup function writes into its instance's
// storage to recognise that instance among caddy.Instances().
type probe struct{ _ byte }

func setup(c *caddy.Controller) error {
	cfg, err := Parse(c)
	if err != nil {
		return plugin.Error(Name, err)
	}
	store, err := findStore(c, cfg.Store)
	if err != nil {
		return plugin.Error(Name, err)
	}
	h, err := New(store, cfg)
	if err != nil {
		return plugin.Error(Name, err)
	}
	dnsserver.GetConfig(c).AddPlugin(func(next plugin.Handler) plugin.Handler {
		h.Next = next
		return h
	})
	return nil
}

// findStore finds the store named name in the *Input of the instance c
// sets up. caddy.Start lists the instance before it runs the setup
// functions; caddy.Instances is not synchronised, so instances must not
// be started or stopped concurrently (modules/dns/server serialises them).
func findStore(c *caddy.Controller, name string) (*records.Store, error) {
	p := &probe{}
	c.Set(p, p)
	for _, inst := range caddy.Instances() {
		inst.StorageMu.RLock()
		mine := inst.Storage[p] == p
		inst.StorageMu.RUnlock()
		if !mine {
			continue
		}
		in, ok := inst.Caddyfile().(*Input)
		if !ok {
			break
		}
		if s := in.Stores[name]; s != nil {
			return s, nil
		}
		return nil, fmt.Errorf("store %q: no such record store in the input (have %d)", name, len(in.Stores))
	}
	return nil, fmt.Errorf("store %q: no record store: start the server with modules/dns/server, or caddy.Start with a *cairn.Input holding the store", name)
}

// Parse reads the directive:
//
//	cairn [DOMAIN] {
//	    ttl SECONDS
//	    store NAME
//	}
//
// DOMAIN defaults to the server block's zone, or "cairn." when that is
// the root.
func Parse(c *caddy.Controller) (Config, error) {
	cfg := Config{TTL: DefaultTTL, Store: DefaultStore}
	n := 0
	for c.Next() {
		if n++; n > 1 {
			return cfg, c.Err("cairn may appear once per server block")
		}
		args := c.RemainingArgs()
		switch len(args) {
		case 0:
			if z := dnsserver.GetConfig(c).Zone; z != "" && z != "." {
				cfg.Zone = z
			} else {
				cfg.Zone = DefaultDomain
			}
		case 1:
			cfg.Zone = args[0]
		default:
			return cfg, c.Errf("want at most one domain, got %d arguments", len(args))
		}
		z, err := normalizeZone(cfg.Zone)
		if err != nil {
			return cfg, c.Err(err.Error())
		}
		cfg.Zone = z
		for c.NextBlock() {
			opt := c.Val()
			args := c.RemainingArgs()
			if len(args) != 1 {
				return cfg, c.Errf("%s: want one value, got %d", opt, len(args))
			}
			switch opt {
			case "ttl":
				v, err := strconv.ParseUint(args[0], 10, 32)
				if err != nil || v > MaxTTL {
					return cfg, c.Errf("ttl %q: want whole seconds from 0 to %d", args[0], MaxTTL)
				}
				cfg.TTL = uint32(v)
			case "store":
				cfg.Store = args[0]
			default:
				return cfg, c.Errf("unknown property %q (want ttl or store)", opt)
			}
		}
	}
	return cfg, nil
}
