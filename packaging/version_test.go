package packaging

import (
	"slices"
	"testing"
)

func TestValidVersion(t *testing.T) {
	for _, v := range []string{"0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85", "1.0.0-x-y-z.--", "99999999999999999999.0.0"} {
		if !ValidVersion(v) {
			t.Errorf("ValidVersion(%q) = false, want true", v)
		}
	}
	for _, v := range []string{"", "1", "1.2", "1.x", "v1.2.3", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3+", "1.2.3-01", "1.2.3-a..b", "1.2.3+a..b", "1.2.3.4", " 1.2.3", "1.2.3-é", "-1.2.3"} {
		if ValidVersion(v) {
			t.Errorf("ValidVersion(%q) = true, want false", v)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	// semver.org's precedence example, in ascending order.
	asc := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0", "10.0.0"}
	for i := range asc {
		for j := range asc {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := CompareVersions(asc[i], asc[j]); got != want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", asc[i], asc[j], got, want)
			}
		}
	}
	if got := CompareVersions("1.0.0+a", "1.0.0+b"); got != 0 {
		t.Errorf("build metadata compared: %d", got)
	}
	if got := CompareVersions("latest", "0.0.1"); got != -1 {
		t.Errorf("CompareVersions(latest, 0.0.1) = %d, want -1", got)
	}
	if got := CompareVersions("a", "b"); got != -1 {
		t.Errorf("CompareVersions(a, b) = %d, want -1", got)
	}
}

func TestSortVersionsDesc(t *testing.T) {
	v := []string{"1.0.0", "latest", "1.10.0", "1.2.0", "1.10.0-rc.1", "sha256-abc", "0.9.9"}
	SortVersionsDesc(v)
	want := []string{"1.10.0", "1.10.0-rc.1", "1.2.0", "1.0.0", "0.9.9", "sha256-abc", "latest"}
	if !slices.Equal(v, want) {
		t.Errorf("SortVersionsDesc = %q, want %q", v, want)
	}
}

func TestVersionTag(t *testing.T) {
	if got := VersionTag("1.0.0-rc.1+build.5"); got != "1.0.0-rc.1_build.5" {
		t.Errorf("VersionTag = %q", got)
	}
	if got := VersionFromTag("1.0.0-rc.1_build.5"); got != "1.0.0-rc.1+build.5" {
		t.Errorf("VersionFromTag = %q", got)
	}
}
