package validate

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// goModVersion is the version go/go.mod requires of a module.
func goModVersion(t testing.TB, root, module string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(module) + `\s+(v\S+)`).
		FindStringSubmatch(readFile(t, filepath.Join(root, "go", "go.mod")))
	if m == nil {
		t.Fatalf("go/go.mod does not require %s", module)
	}
	return m[1]
}

// knativeLine maps a Knative release (knative-v1.22.0) to its Go module line (v0.48).
func knativeLine(t testing.TB, release string) string {
	t.Helper()
	m := regexp.MustCompile(`^knative-v1\.(\d+)\.\d+$`).FindStringSubmatch(release)
	if m == nil {
		t.Fatalf("scripts/versions.env: %q is not a knative-v1.N.M release", release)
	}
	minor, _ := strconv.Atoi(m[1])
	return fmt.Sprintf("v0.%d", minor+26)
}

func moduleLine(version string) string {
	return regexp.MustCompile(`^v\d+\.\d+`).FindString(version)
}

// What deploy.sh installs on the cluster is the release whose Go modules validate the manifests
// here, and the kn it uses is built from the pinned client module.
func TestPinnedReleasesMatchTheValidatingModules(t *testing.T) {
	root := repoRoot(t)
	v := versionsEnv(t, root)
	for _, c := range []struct{ key, module string }{
		{"KNATIVE_SERVING_VERSION", "knative.dev/serving"},
		{"EVENTING_RABBITMQ_VERSION", "knative.dev/eventing-rabbitmq"},
	} {
		if want, got := knativeLine(t, v[c.key]), moduleLine(goModVersion(t, root, c.module)); want != got {
			t.Errorf("%s=%s is the %s line, but go/go.mod has %s %s", c.key, v[c.key], want, c.module, goModVersion(t, root, c.module))
		}
	}
	if got := goModVersion(t, root, "knative.dev/client"); got != v["KN_CLIENT_MODULE_VERSION"] {
		t.Errorf("KN_CLIENT_MODULE_VERSION=%s, but go/go.mod builds kn from knative.dev/client %s", v["KN_CLIENT_MODULE_VERSION"], got)
	}
	for _, key := range []string{"KNATIVE_EVENTING_VERSION", "KNATIVE_KOURIER_VERSION"} {
		if knativeLine(t, v[key]) != knativeLine(t, v["KNATIVE_SERVING_VERSION"]) {
			t.Errorf("%s=%s is not on the line of KNATIVE_SERVING_VERSION=%s", key, v[key], v["KNATIVE_SERVING_VERSION"])
		}
	}
	// go/go.mod's eventing module is chosen with the local event sources (go/cmd/local-eventing);
	// a different line there only means the PingSource is validated by that line's code.
	if want, got := knativeLine(t, v["KNATIVE_EVENTING_VERSION"]), moduleLine(goModVersion(t, root, "knative.dev/eventing")); want != got {
		t.Logf("note: the cluster runs Eventing %s (%s), go/go.mod has knative.dev/eventing %s",
			v["KNATIVE_EVENTING_VERSION"], want, goModVersion(t, root, "knative.dev/eventing"))
	}
}
