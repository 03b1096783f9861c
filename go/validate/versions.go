package validate

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// goModVersion is the version go/go.mod requires of a module.
func (r *Repo) goModVersion(module string) (string, error) {
	text, err := r.ReadFile("go/go.mod")
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindStringSubmatch(text)
	if m == nil {
		return "", fmt.Errorf("go/go.mod does not require %s", module)
	}
	return m[1], nil
}

var knativeRelease = regexp.MustCompile(`^knative-v1\.(\d+)\.\d+$`)

// knativeMinor is N of a knative-v1.N.M release.
func knativeMinor(release string) (int, error) {
	m := knativeRelease.FindStringSubmatch(release)
	if m == nil {
		return 0, fmt.Errorf("scripts/versions.env: %q is not a knative-v1.N.M release", release)
	}
	return strconv.Atoi(m[1])
}

// knativeLine maps a Knative release to its Go module line: Knative numbers its Go modules
// v0.(N+27) for knative-v1.N (knative-v1.10.0 is serving v0.37.0), so knative-v1.22.0 is v0.49.
// behind counts lines back from there (1: the line of the release before).
func knativeLine(release string, behind int) (string, error) {
	minor, err := knativeMinor(release)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("v0.%d", minor+27-behind), nil
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

var moduleLinePattern = regexp.MustCompile(`^v\d+\.\d+`)

func moduleLine(version string) string {
	return moduleLinePattern.FindString(version)
}

// CheckPinnedReleases: what deploy.sh installs on the cluster (scripts/versions.env) is the
// release whose Go modules validate the manifests here, and the kn it uses is built from the
// pinned client module. The notes are tolerated differences worth a line in the test log.
func (r *Repo) CheckPinnedReleases() (problems, notes []string, err error) {
	v, err := r.Versions()
	if err != nil {
		return nil, nil, err
	}
	lines := map[string][2]string{} // release key -> its line, the line before
	for _, key := range []string{"KNATIVE_SERVING_VERSION", "KNATIVE_EVENTING_VERSION", "KNATIVE_KOURIER_VERSION", "EVENTING_RABBITMQ_VERSION"} {
		this, err := knativeLine(v[key], 0)
		if err != nil {
			return nil, nil, err
		}
		before, _ := knativeLine(v[key], 1)
		lines[key] = [2]string{this, before}
	}
	required := map[string]string{}
	for _, module := range []string{"knative.dev/serving", "knative.dev/eventing", "knative.dev/eventing-rabbitmq", "knative.dev/client"} {
		if required[module], err = r.goModVersion(module); err != nil {
			return nil, nil, err
		}
	}
	for _, c := range []struct{ key, module string }{
		{"KNATIVE_SERVING_VERSION", "knative.dev/serving"},
		{"EVENTING_RABBITMQ_VERSION", "knative.dev/eventing-rabbitmq"},
		// kn talks to the Serving and Eventing the cluster runs.
		{"KNATIVE_SERVING_VERSION", "knative.dev/client"},
	} {
		want, version := lines[c.key][0], required[c.module]
		got := moduleLine(version)
		reason, lagging := oneLineBehind[c.module]
		switch {
		case got == want && lagging:
			problems = append(problems, fmt.Sprintf("go/go.mod has %s %s, on the %s line of %s=%s: drop it from oneLineBehind and scripts/versions.env's exceptions",
				c.module, version, want, c.key, v[c.key]))
		case got == want:
		case lagging && got == lines[c.key][1]:
			notes = append(notes, fmt.Sprintf("go/go.mod has %s %s, one line behind %s=%s (%s): %s", c.module, version, c.key, v[c.key], want, reason))
		default:
			problems = append(problems, fmt.Sprintf("%s=%s is the %s line, but go/go.mod has %s %s", c.key, v[c.key], want, c.module, version))
		}
	}
	if got := required["knative.dev/client"]; got != v["KN_CLIENT_MODULE_VERSION"] {
		problems = append(problems, fmt.Sprintf("KN_CLIENT_MODULE_VERSION=%s, but go/go.mod builds kn from knative.dev/client %s", v["KN_CLIENT_MODULE_VERSION"], got))
	}
	for _, key := range []string{"KNATIVE_EVENTING_VERSION", "KNATIVE_KOURIER_VERSION"} {
		if lines[key][0] != lines["KNATIVE_SERVING_VERSION"][0] {
			problems = append(problems, fmt.Sprintf("%s=%s is not on the line of KNATIVE_SERVING_VERSION=%s", key, v[key], v["KNATIVE_SERVING_VERSION"]))
		}
	}
	problems, notes, err = r.checkOperatorModules(v, problems, notes)
	if err != nil {
		return nil, nil, err
	}
	// go/go.mod's eventing module is chosen with the local event sources (go/cmd/local-eventing);
	// a different line there only means the PingSource is validated by that line's code.
	if want, got := lines["KNATIVE_EVENTING_VERSION"][0], moduleLine(required["knative.dev/eventing"]); want != got {
		notes = append(notes, fmt.Sprintf("the cluster runs Eventing %s (%s), go/go.mod has knative.dev/eventing %s",
			v["KNATIVE_EVENTING_VERSION"], want, required["knative.dev/eventing"]))
	}
	return problems, notes, nil
}

// clusterOperatorModuleLag: why go/go.mod's cluster operator module is older than the release
// deploy.sh installs (its RabbitmqCluster CRD and Go types validate cluster.yaml).
const clusterOperatorModuleLag = "the checksum database this project builds with answers 404 for cluster-operator/v2 v2.17.0 and later; v2.16.0 is the release the topology operator's module builds against"

// checkOperatorModules: the topology operator whose CRDs and Go types validate topology.yaml is
// the release deploy.sh installs; the cluster operator's may lag (clusterOperatorModuleLag), on
// the same major version, and is noted.
func (r *Repo) checkOperatorModules(v map[string]string, problems, notes []string) ([]string, []string, error) {
	topology, err := r.goModVersion(topologyOperatorModule)
	if err != nil {
		return nil, nil, err
	}
	if want := v["RABBITMQ_TOPOLOGY_OPERATOR_VERSION"]; topology != want {
		problems = append(problems, fmt.Sprintf("RABBITMQ_TOPOLOGY_OPERATOR_VERSION=%s, but go/go.mod validates the topology with %s %s", want, topologyOperatorModule, topology))
	}
	cluster, err := r.goModVersion(clusterOperatorModule)
	if err != nil {
		return nil, nil, err
	}
	switch want := v["RABBITMQ_CLUSTER_OPERATOR_VERSION"]; {
	case cluster == want:
	case strings.HasPrefix(want, "v2.") && semverLess(cluster, want):
		notes = append(notes, fmt.Sprintf("go/go.mod has %s %s, older than RABBITMQ_CLUSTER_OPERATOR_VERSION=%s: %s", clusterOperatorModule, cluster, want, clusterOperatorModuleLag))
	default:
		problems = append(problems, fmt.Sprintf("RABBITMQ_CLUSTER_OPERATOR_VERSION=%s, but go/go.mod has %s %s", want, clusterOperatorModule, cluster))
	}
	return problems, notes, nil
}

// semverLess compares vMAJOR.MINOR.PATCH versions numerically.
func semverLess(a, b string) bool {
	pa, pb := strings.Split(strings.TrimPrefix(a, "v"), "."), strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, errx := strconv.Atoi(pa[i])
		y, erry := strconv.Atoi(pb[i])
		if errx != nil || erry != nil {
			return a < b
		}
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

var pseudoVersion = regexp.MustCompile(`^v0\.0\.0-(\d{14})-([0-9a-f]{12})$`)

// CheckKnClientPkg: kn's code is the nested module knative.dev/client/pkg, which the client
// release does not pin (its go.mod replaces it with ./pkg), so go/go.mod pins it to a
// pseudo-version: it has to be the client release's own commit, or kn is built from another
// release's code. Asks the Go module proxy (or the module cache) about the client release.
func (r *Repo) CheckKnClientPkg() ([]string, error) {
	client, err := r.goModVersion("knative.dev/client")
	if err != nil {
		return nil, err
	}
	pkg, err := r.goModVersion("knative.dev/client/pkg")
	if err != nil {
		return nil, err
	}
	m := pseudoVersion.FindStringSubmatch(pkg)
	if m == nil {
		return []string{fmt.Sprintf("go/go.mod: knative.dev/client/pkg %s is not a pseudo-version of a client commit", pkg)}, nil
	}
	cmd := exec.Command("go", "mod", "download", "-json", "knative.dev/client@"+client)
	cmd.Dir = r.GoDir()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod download knative.dev/client@%s: %v\n%s", client, err, out)
	}
	var info struct {
		Info   string
		Origin struct{ Hash string }
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, err
	}
	// The .info of a release has its commit time, and usually (Origin) its commit hash.
	data, err := os.ReadFile(info.Info)
	if err != nil {
		return nil, err
	}
	var release struct{ Time time.Time }
	if err := json.Unmarshal(data, &release); err != nil {
		return nil, fmt.Errorf("%s: %w", info.Info, err)
	}
	var problems []string
	if stamp := release.Time.UTC().Format("20060102150405"); stamp != m[1] {
		problems = append(problems, fmt.Sprintf("knative.dev/client/pkg %s is a commit of %s, but knative.dev/client %s was committed %s", pkg, m[1], client, stamp))
	}
	if info.Origin.Hash != "" && !strings.HasPrefix(info.Origin.Hash, m[2]) {
		problems = append(problems, fmt.Sprintf("knative.dev/client/pkg %s is commit %s, but knative.dev/client %s is %s", pkg, m[2], client, info.Origin.Hash))
	}
	return problems, nil
}
