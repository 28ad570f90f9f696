package constraints_test

import (
	"fmt"

	"github.com/cairn-dc/cairn/frameworks/services/constraints"
	"github.com/cairn-dc/cairn/kernel/resources"
)

func Example() {
	cs, err := constraints.Parse([][]string{{"hostname", "UNIQUE"}, {"rack", "GROUP_BY", "2"}})
	if err != nil {
		panic(err)
	}
	agent := func(host, attrs string) constraints.Agent {
		return constraints.Agent{Hostname: host, Attributes: resources.MustParseAttributes(attrs)}
	}
	offers := []constraints.Agent{agent("a1", "rack:r1"), agent("a2", "rack:r1"), agent("b1", "rack:r2")}
	placed := []constraints.Agent{agent("a1", "rack:r1")}

	for _, o := range offers {
		if ok, why := constraints.Check(cs, o, placed); ok {
			fmt.Println(o.Hostname, "ok")
		} else {
			fmt.Println(o.Hostname, "refused:", why)
		}
	}
	fmt.Println(constraints.Rank(cs, offers, placed))
	fmt.Println(constraints.Explain(cs, offers, placed))
	// Output:
	// a1 refused: UNIQUE hostname: a1 already runs an instance
	// a2 refused: GROUP_BY rack 2: a2 has rack r1, which already runs 1 instance, and only 1 of 2 rack values are in use; waiting for an agent with another rack
	// b1 ok
	// [2]
	// UNIQUE hostname: 1 agent refused (a1); GROUP_BY rack 2: 2 agents refused (a1, a2)
}

func ExampleParse() {
	_, err := constraints.Parse([][]string{{"hostname", "UNIQUE"}, {"rack", "NEAR", "r1"}})
	fmt.Println(err)
	// Output:
	// constraints(1): unknown operator "NEAR"; use UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER or IS
}
