package marathon

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Marathon's label variables: names and values of at least these lengths
// are left out (EnvironmentHelper).
const (
	maxEnvLength      = 512
	labelEnvPrefix    = "MARATHON_APP_LABEL_"
	maxLabelKeyLength = maxEnvLength - len(labelEnvPrefix)
)

var labelEscapeRE = regexp.MustCompile(`[^a-zA-Z0-9_]+`)

// TaskEnv returns the environment Marathon gives a task of app (a
// normalised app) running on host with the given host ports (ports[i] is
// the host port of portDefinitions[i]), lowest precedence first as
// Marathon composes it:
//
//  1. app context: MARATHON_APP_ID, MARATHON_APP_VERSION,
//     MARATHON_APP_RESOURCE_CPUS/MEM/DISK/GPUS (formatted as Java prints
//     numbers: "0.5", "128.0", "0"), MARATHON_APP_LABELS (the label names,
//     escaped, space-separated) and MARATHON_APP_LABEL_<NAME> for each.
//     MARATHON_APP_DOCKER_IMAGE is set only for apps with an image, so
//     never by Cairn for now. MESOS_TASK_ID is the caller's (it knows the
//     task id).
//  2. ports and host: PORT0..PORTn-1, PORT (= PORT0), PORTS (comma-
//     separated), PORT_<port> for each port definition (its declared port
//     when non-zero, else its host port: Marathon's PORT_10000 for a
//     service port 10000), PORT_<NAME> for named ports (the name
//     uppercased), and HOST.
//  3. the app's env, which overrides everything above.
func TaskEnv(app App, ports []uint64, host string) map[string]string {
	env := map[string]string{}
	env["MARATHON_APP_ID"] = app.ID
	env["MARATHON_APP_VERSION"] = app.Version
	if c := app.Container; c != nil && c.Docker != nil && c.Docker.Image != "" {
		env["MARATHON_APP_DOCKER_IMAGE"] = c.Docker.Image
	}
	env["MARATHON_APP_RESOURCE_CPUS"] = javaDouble(valueOr(app.CPUs, defaultCPUs))
	env["MARATHON_APP_RESOURCE_MEM"] = javaDouble(valueOr(app.Mem, defaultMem))
	env["MARATHON_APP_RESOURCE_DISK"] = javaDouble(valueOr(app.Disk, defaultDisk))
	env["MARATHON_APP_RESOURCE_GPUS"] = strconv.Itoa(valueOr(app.GPUs, defaultGPUs))

	var names []string
	for k, v := range app.Labels {
		if utf16Len(k) >= maxLabelKeyLength || utf16Len(v) >= maxEnvLength {
			continue
		}
		name := strings.ToUpper(labelEscapeRE.ReplaceAllString(k, "_"))
		names = append(names, name)
		env[labelEnvPrefix+name] = v
	}
	sort.Strings(names)
	env["MARATHON_APP_LABELS"] = strings.Join(names, " ")

	if len(ports) > 0 {
		all := make([]string, len(ports))
		for i, p := range ports {
			s := strconv.FormatUint(p, 10)
			all[i] = s
			env["PORT"+strconv.Itoa(i)] = s
		}
		for i, pd := range app.PortDefinitions {
			if i >= len(ports) {
				break
			}
			if pd.Port != 0 {
				env["PORT_"+strconv.Itoa(pd.Port)] = all[i]
			} else {
				env["PORT_"+all[i]] = all[i]
			}
		}
		for i, pd := range app.PortDefinitions {
			if i < len(ports) && pd.Name != "" {
				env["PORT_"+strings.ToUpper(pd.Name)] = all[i]
			}
		}
		env["PORT"] = all[0]
		env["PORTS"] = strings.Join(all, ",")
	}
	if host != "" {
		env["HOST"] = host
	}
	for k, v := range app.Env {
		env[k] = v
	}
	return env
}

func valueOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	if !utf8.ValidString(s) {
		return len(s)
	}
	return n
}

// javaDouble formats f as Java's Double.toString, which Marathon's
// variables use: "0.5", "128.0", "1.0E7", "1.0E-4".
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1.2345E+07
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
