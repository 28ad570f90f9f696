// Package resources is Cairn's resource model, after Mesos': named scalar,
// range and set resources, each either unreserved (role "*") or reserved for
// a role through a stack of reservations; plus agent attributes.
//
// Scalars are fixed-point with three decimals (like Mesos), so adding and
// subtracting never drifts: 0.1 + 0.2 == 0.3 exactly. Text with more than
// three decimals is rejected; JSON numbers are read from their decimal text
// (never through float64) and rounded to the nearest thousandth, as Mesos
// does.
//
// Text format (agent --resources flags, tests):
//
//	cpus:4;mem:8192;disk:10000;ports:[31000-32000,33000-33010];zones:{a,b}
//	cpus(prod):2            a static reservation for role "prod"
//
// What the text format cannot say (dynamic or refined reservations,
// persistent volumes) is written as a JSON object entry, which Parse reads
// back: cpus:4;{"name":"disk","type":"SCALAR",...}.
//
// JSON is Mesos v1's:
//
//	[{"name":"cpus","type":"SCALAR","scalar":{"value":4}},
//	 {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}}]
//
// A [Resources] value is normalised: one entry per (name, type, reservations,
// disk), no empty entries, in a deterministic order, so String and JSON are
// stable and Plus, Minus, Contains and Equal run as merges of sorted lists
// without maps. Persistent volumes are atomic: never merged, only subtracted
// or contained whole.
//
// The package does no I/O and has no package-level mutable state.
package resources
