package agent

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// DetectResources finds the machine's resources as Mesos does, then lets
// overrides replace them entry by entry (by name):
//
//	cpus   the number of CPUs
//	mem    total memory (MB) minus 1 GiB for the system (half when below 2 GiB)
//	disk   the work dir's filesystem size (MB) minus 5 GiB (half when below 10 GiB)
//	ports  [31000-32000]
func DetectResources(workDir string, overrides resources.Resources) (resources.Resources, error) {
	if err := overrides.Validate(); err != nil {
		return nil, fmt.Errorf("--resources: %w", err)
	}
	memMB, err := totalMemoryMB()
	if err != nil {
		return nil, fmt.Errorf("detect memory: %w (give it with --resources mem:<MB>)", err)
	}
	if memMB >= 2048 {
		memMB -= 1024
	} else {
		memMB /= 2
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(workDir, &fs); err != nil {
		return nil, fmt.Errorf("detect disk of %s: %w (give it with --resources disk:<MB>)", workDir, err)
	}
	diskMB := int64(fs.Blocks) * fs.Bsize / (1 << 20)
	if diskMB >= 10240 {
		diskMB -= 5120
	} else {
		diskMB /= 2
	}
	detected := resources.MustParse(fmt.Sprintf("cpus:%d;mem:%d;disk:%d;ports:[31000-32000]", runtime.NumCPU(), memMB, diskMB))
	given := map[string]bool{}
	for _, r := range overrides {
		given[r.Name] = true
	}
	out := detected.Filter(func(r resources.Resource) bool { return !given[r.Name] })
	return out.Plus(overrides), nil
}

func totalMemoryMB() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no MemTotal in /proc/meminfo")
}

// defaultAddress is an address tasks on this agent can be reached at.
func defaultAddress(hostname string) string {
	if addrs, err := net.LookupHost(hostname); err == nil {
		for _, a := range addrs {
			if ip := net.ParseIP(a); ip != nil && ip.To4() != nil && !ip.IsLoopback() {
				return a
			}
		}
	}
	return "127.0.0.1"
}
