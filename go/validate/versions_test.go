package validate

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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

// knativeLine maps a Knative release to its Go module line: Knative numbers its Go modules
// v0.(N+27) for knative-v1.N (knative-v1.10.0 is serving v0.37.0), so knative-v1.22.0 is v0.49.
func knativeLine(t testing.TB, release string) string {
	t.Helper()
	return fmt.Sprintf("v0.%d", knativeMinor(t, release)+27)
}

// previousKnativeLine is the Go module line of the Knative release before release's line.
func previousKnativeLine(t testing.TB, release string) string {
	t.Helper()
	return fmt.Sprintf("v0.%d", knativeMinor(t, release)+26)
}

func knativeMinor(t testing.TB, release string) int {
	t.Helper()
	m := regexp.MustCompile(`^knative-v1\.(\d+)\.\d+$`).FindStringSubmatch(release)
	if m == nil {
		t.Fatalf("scripts/versions.env: %q is not a knative-v1.N.M release", release)
	}
	minor, _ := strconv.Atoi(m[1])
	return minor
}

// oneLineBehind lists the modules go/go.mod may keep one Knative line behind the release they
// stand for, and why; scripts/versions.env says the same. Both are there only because the Go
// module proxy this project builds with refuses (403) their versions on the release's line.
var oneLineBehind = map[string]string{
	// Every v0.49.x of eventing-rabbitmq is refused; v0.48.0 is the newest the proxy serves.
	"knative.dev/eventing-rabbitmq": "the proxy serves no v0.49.x",
	// client v0.49.1 is served, but kn's code is the nested module knative.dev/client/pkg,
	// which the proxy refuses at the v0.49.1 commit; kn stays a whole 1.21 release.
	"knative.dev/client": "the proxy refuses knative.dev/client/pkg at the v0.49.x commits",
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
		// kn talks to the Serving and Eventing the cluster runs.
		{"KNATIVE_SERVING_VERSION", "knative.dev/client"},
	} {
		want, version := knativeLine(t, v[c.key]), goModVersion(t, root, c.module)
		got := moduleLine(version)
		reason, lagging := oneLineBehind[c.module]
		switch {
		case got == want && lagging:
			t.Errorf("go/go.mod has %s %s, on the %s line of %s=%s: drop it from oneLineBehind and scripts/versions.env's exceptions",
				c.module, version, want, c.key, v[c.key])
		case got == want:
		case lagging && got == previousKnativeLine(t, v[c.key]):
			t.Logf("note: go/go.mod has %s %s, one line behind %s=%s (%s): %s", c.module, version, c.key, v[c.key], want, reason)
		default:
			t.Errorf("%s=%s is the %s line, but go/go.mod has %s %s", c.key, v[c.key], want, c.module, version)
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

// kn's code is the nested module knative.dev/client/pkg, which the client release does not pin
// (its go.mod replaces it with ./pkg), so go/go.mod pins it to a pseudo-version: it has to be
// the client release's own commit, or kn is built from another release's code.
func TestKnClientPkgIsTheClientReleaseCommit(t *testing.T) {
	root := repoRoot(t)
	client := goModVersion(t, root, "knative.dev/client")
	pkg := goModVersion(t, root, "knative.dev/client/pkg")
	m := regexp.MustCompile(`^v0\.0\.0-(\d{14})-([0-9a-f]{12})$`).FindStringSubmatch(pkg)
	if m == nil {
		t.Fatalf("go/go.mod: knative.dev/client/pkg %s is not a pseudo-version of a client commit", pkg)
	}
	cmd := exec.Command("go", "mod", "download", "-json", "knative.dev/client@"+client)
	cmd.Dir = filepath.Join(root, "go")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download knative.dev/client@%s: %v\n%s", client, err, out)
	}
	var info struct {
		Info   string
		Origin struct{ Hash string }
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	// The .info of a release has its commit time, and usually (Origin) its commit hash.
	var release struct{ Time time.Time }
	if err := json.Unmarshal([]byte(readFile(t, info.Info)), &release); err != nil {
		t.Fatalf("%s: %v", info.Info, err)
	}
	if stamp := release.Time.UTC().Format("20060102150405"); stamp != m[1] {
		t.Errorf("knative.dev/client/pkg %s is a commit of %s, but knative.dev/client %s was committed %s", pkg, m[1], client, stamp)
	}
	if info.Origin.Hash != "" && !strings.HasPrefix(info.Origin.Hash, m[2]) {
		t.Errorf("knative.dev/client/pkg %s is commit %s, but knative.dev/client %s is %s", pkg, m[2], client, info.Origin.Hash)
	}
}
