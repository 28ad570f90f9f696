package resources

import "testing"

// The allocator's hot path: an agent's resources minus a task's, plus it
// back, and containment checks, on small collections.
var (
	benchAgent = MustParse("cpus:16;mem:65536;disk:100000;ports:[31000-32000];cpus(prod):4;mem(prod):8192")
	benchTask  = MustParse("cpus:0.5;mem:512;ports:[31005-31005]")
	benchSmall = MustParse("cpus:0.5;mem:512")
)

func BenchmarkPlusMinus(b *testing.B) {
	b.ReportAllocs()
	x := benchAgent
	for b.Loop() {
		x = x.Minus(benchTask).Plus(benchTask)
	}
	if !x.Equal(benchAgent) {
		b.Fatal(x)
	}
}

func BenchmarkPlusMinusScalars(b *testing.B) {
	b.ReportAllocs()
	x := benchAgent
	for b.Loop() {
		x = x.Minus(benchSmall).Plus(benchSmall)
	}
}

func BenchmarkContains(b *testing.B) {
	b.ReportAllocs()
	ok := false
	for b.Loop() {
		ok = benchAgent.Contains(benchTask)
	}
	if !ok {
		b.Fatal("not contained")
	}
}

func BenchmarkEqual(b *testing.B) {
	b.ReportAllocs()
	y := benchAgent.Clone()
	for b.Loop() {
		if !benchAgent.Equal(y) {
			b.Fatal("unequal")
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("cpus:16;mem:65536;disk:100000;ports:[31000-32000];cpus(prod):4"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkString(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = benchAgent.String()
	}
}
