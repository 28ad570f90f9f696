package allocator

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/kernel/resources"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

// TestRandomOperations drives the allocator with random operations, some of
// them invalid (unknown IDs, resources not held), and after each checks that
// no agent is ever over-allocated and that every incremental structure
// matches a recomputation from scratch.
func TestRandomOperations(t *testing.T) {
	seeds := envInt("ALLOCATOR_PROPERTY_SEEDS", 30)
	steps := envInt("ALLOCATOR_PROPERTY_STEPS", 400)
	if testing.Short() {
		seeds = 5
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			randomRun(t, uint64(seed), steps)
		})
	}
}

type held struct {
	fw, agent, role string
	res             resources.Resources
}

func randomRun(t *testing.T, seed uint64, steps int) {
	rng := newTestRand(seed)
	a := New(Config{Seed: int64(seed)})
	roles := []string{"*", "r1", "r2", "eng", "eng/web", "eng/db"}
	shapes := []string{
		"cpus:4;mem:4096;disk:1000;ports:[31000-31010]",
		"cpus:2;mem:8192",
		"cpus(r1):2;mem(r1):1024;cpus:2;mem:2048",
		"cpus(eng):2;mem(eng):2048;cpus(eng/web):1;mem(eng/web):512;cpus:1;mem:512;gpus:1",
		"cpus(r2):1;mem(r2):128;ports(r2):[1-5];ports:[6-10]",
		"mem:16",
	}
	var agents, fws []string
	var outstanding []held // offers and the resources they became
	now := t0
	pick := func(xs []string) string {
		if len(xs) == 0 || rng.IntN(20) == 0 {
			return "nonexistent"
		}
		return xs[rng.IntN(len(xs))]
	}
	randRoles := func() []string {
		var rs []string
		for range rng.IntN(3) {
			rs = append(rs, roles[rng.IntN(len(roles))])
		}
		return rs
	}
	for step := range steps {
		op := rng.IntN(100)
		var desc string
		switch {
		case op < 10:
			id := fmt.Sprintf("s%d", step)
			agents = append(agents, id)
			var used map[string]map[string]resources.Resources
			if len(fws) > 0 && rng.IntN(4) == 0 {
				f := pick(fws)
				used = map[string]map[string]resources.Resources{f: {"*": mp("cpus:0.5;mem:16")}}
				outstanding = addHeld(outstanding, held{f, id, "*", mp("cpus:0.5;mem:16")})
			}
			total := mp(shapes[rng.IntN(len(shapes))])
			if used != nil {
				total = total.Plus(mp("cpus:0.5;mem:16"))
			}
			a.AddAgent(id, AgentInfo{Hostname: id}, total, used)
			desc = "AddAgent " + id
		case op < 13:
			id := pick(agents)
			a.RemoveAgent(id)
			outstanding = dropHeld(outstanding, func(h held) bool { return h.agent == id })
			desc = "RemoveAgent " + id
		case op < 17:
			id := pick(agents)
			if rng.IntN(2) == 0 {
				a.DeactivateAgent(id)
			} else {
				a.ActivateAgent(id)
			}
			desc = "De/ActivateAgent " + id
		case op < 25:
			id := fmt.Sprintf("f%d", step)
			fws = append(fws, id)
			a.AddFramework(id, randRoles(), nil, rng.IntN(4) != 0)
			desc = "AddFramework " + id
		case op < 27:
			id := pick(fws)
			a.RemoveFramework(id)
			outstanding = dropHeld(outstanding, func(h held) bool { return h.fw == id })
			desc = "RemoveFramework " + id
		case op < 32:
			id := pick(fws)
			if rng.IntN(2) == 0 {
				a.DeactivateFramework(id)
			} else {
				a.ActivateFramework(id)
			}
			desc = "De/ActivateFramework " + id
		case op < 35:
			id := pick(fws)
			a.UpdateFramework(id, randRoles())
			desc = "UpdateFramework " + id
		case op < 40:
			id := pick(fws)
			rs := randRoles()
			if rng.IntN(2) == 0 {
				a.Suppress(id, rs...)
			} else {
				a.Revive(id, rs...)
			}
			desc = "Suppress/Revive " + id
		case op < 42:
			a.SetWeight(roles[rng.IntN(len(roles))], float64(1+rng.IntN(4)))
			desc = "SetWeight"
		case op < 60:
			got := a.Allocate(now)
			for _, al := range got {
				if err := checkOffer(a, al, now); err != nil {
					t.Fatalf("step %d: offer %+v: %v", step, al, err)
				}
				outstanding = addHeld(outstanding, held{al.FrameworkID, al.AgentID, al.Role, al.Resources})
			}
			desc = fmt.Sprintf("Allocate (%d offers)", len(got))
			if err := checkNothingMissed(a, now); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		case op < 85:
			if len(outstanding) == 0 {
				continue
			}
			i := rng.IntN(len(outstanding))
			h := outstanding[i]
			res := h.res
			switch rng.IntN(4) {
			case 0: // part of it: its scalars halved
				res = halfScalars(h.res)
			case 1: // more than held (clamped)
				res = h.res.Plus(mp("cpus:100"))
			}
			refuse := time.Duration(rng.IntN(3)) * time.Second
			a.Recover(h.fw, h.agent, h.role, res, refuse, now)
			rest := h.res.Minus(res)
			if rest.IsEmpty() {
				outstanding = append(outstanding[:i], outstanding[i+1:]...)
			} else {
				outstanding[i].res = rest
			}
			desc = fmt.Sprintf("Recover %s %s %s %s refuse %v", h.fw, h.agent, h.role, res, refuse)
		case op < 90:
			if len(outstanding) == 0 {
				continue
			}
			i := rng.IntN(len(outstanding))
			h := outstanding[i]
			from := h.res.Filter(func(r resources.Resource) bool { return r.Name == "cpus" && r.Role() == "*" })
			role := h.role
			if role == "*" {
				role = "r1"
			}
			to := dynReserve(from, role)
			if rng.IntN(5) == 0 {
				from = from.Plus(mp("cpus:1000")) // not held: must fail
			}
			err := a.UpdateAllocation(h.fw, h.agent, h.role, from, to)
			if err == nil {
				outstanding[i].res = h.res.Minus(from).Plus(to)
			}
			desc = fmt.Sprintf("UpdateAllocation %s %s: %v", h.fw, h.agent, err)
		case op < 93:
			id := pick(agents)
			if ag := a.agent(id); ag != nil {
				a.UpdateAgentTotal(id, ag.total.Plus(mp("cpus:1;mem:64")))
			}
			desc = "UpdateAgentTotal " + id
		default:
			now = now.Add(time.Duration(rng.IntN(2000)) * time.Millisecond)
			desc = "tick"
		}
		if err := a.checkInvariants(); err != nil {
			t.Fatalf("step %d (%s): %v", step, desc, err)
		}
		// the model agrees on what each agent has allocated
		for _, id := range agents {
			ag := a.agent(id)
			if ag == nil {
				continue
			}
			var sum resources.Resources
			for _, h := range outstanding {
				if h.agent == id {
					sum = sum.Plus(h.res)
				}
			}
			if !sum.Equal(ag.allocatedRes()) {
				t.Fatalf("step %d (%s): agent %s allocated %s, model %s", step, desc, id, ag.allocatedRes(), sum)
			}
		}
	}
}

// addHeld records resources held, merged per (framework, agent, role) as
// the allocator merges them.
func addHeld(hs []held, h held) []held {
	for i := range hs {
		if hs[i].fw == h.fw && hs[i].agent == h.agent && hs[i].role == h.role {
			hs[i].res = hs[i].res.Plus(h.res)
			return hs
		}
	}
	return append(hs, h)
}

func dropHeld(hs []held, drop func(held) bool) []held {
	out := hs[:0]
	for _, h := range hs {
		if !drop(h) {
			out = append(out, h)
		}
	}
	return out
}

func halfScalars(rs resources.Resources) resources.Resources {
	var out resources.Resources
	for _, r := range rs {
		if r.Type == resources.Scalar {
			r.Scalar /= 2
			if r.Scalar == 0 {
				continue
			}
			out = out.Plus(resources.Resources{r})
		}
	}
	return out
}

// checkOffer verifies an offer against the allocator's state: an active
// agent, an active framework subscribed and not suppressed for the role,
// only resources allocatable to the role, at least the minimum.
func checkOffer(a *Allocator, al Allocation, now time.Time) error {
	ag := a.agent(al.AgentID)
	if ag == nil || !ag.active {
		return fmt.Errorf("agent unknown or inactive")
	}
	fw := a.framework(al.FrameworkID)
	if fw == nil || !fw.active {
		return fmt.Errorf("framework unknown or inactive")
	}
	n := a.roles[al.Role]
	if n == nil {
		return fmt.Errorf("unknown role")
	}
	fr := fw.roleFor(n.self)
	if fr == nil || !fr.subscribed || fr.suppressed {
		return fmt.Errorf("framework not subscribed or suppressed for the role")
	}
	for _, r := range al.Resources {
		if !allocatableRole(r.Role(), al.Role) {
			return fmt.Errorf("%s reserved for %s offered to role %s", r.Name, r.Role(), al.Role)
		}
	}
	if !al.Resources.Equal(al.Resources.AllocatableTo(al.Role)) {
		return fmt.Errorf("resources.AllocatableTo disagrees")
	}
	if !a.minOK(a.vecOf(al.Resources), al.Resources) {
		return fmt.Errorf("below the minimum")
	}
	for _, f := range ag.filters {
		if f.fw == fw.idx && f.leaf == n.self && now.UnixNano() < f.expiry && f.res.Contains(al.Resources) {
			return fmt.Errorf("offered despite a decline filter of %s", f.res)
		}
	}
	return nil
}

// checkNothingMissed verifies, after a cycle, that whatever an active agent
// still has available could not be offered to any eligible framework: each
// eligible framework that could use some of it has a decline filter for it.
func checkNothingMissed(a *Allocator, now time.Time) error {
	for _, ag := range a.agents {
		if ag == nil || !ag.active {
			continue
		}
		avail := ag.total.Minus(ag.allocatedRes())
		for _, fr := range a.frs {
			if fr == nil || !fr.listed {
				continue
			}
			offer := avail.AllocatableTo(fr.leaf.path)
			if offer.IsEmpty() || !a.minOK(a.vecOf(offer), offer) {
				continue
			}
			filtered := false
			for _, f := range ag.filters {
				if f.fw == fr.fw.idx && f.leaf == fr.leaf && now.UnixNano() < f.expiry && f.res.Contains(offer) {
					filtered = true
				}
			}
			if !filtered {
				return fmt.Errorf("agent %s: %s left unoffered to %s in role %s", ag.id, offer, fr.fw.id, fr.leaf.path)
			}
		}
	}
	return nil
}
