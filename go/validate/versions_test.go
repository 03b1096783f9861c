package validate

import "testing"

// What deploy.sh installs on the cluster is the release whose Go modules validate the manifests
// here, and the kn it uses is built from the pinned client module.
func TestPinnedReleasesMatchTheValidatingModules(t *testing.T) {
	problems, notes, err := testRepo(t).CheckPinnedReleases()
	for _, n := range notes {
		t.Log("note: " + n)
	}
	check(t, problems, err)
}

// kn's code (knative.dev/client/pkg) is the client release's own commit.
func TestKnClientPkgIsTheClientReleaseCommit(t *testing.T) {
	problems, err := testRepo(t).CheckKnClientPkg()
	check(t, problems, err)
}

func TestKnativeLineOfARelease(t *testing.T) {
	for release, want := range map[string]string{"knative-v1.22.0": "v0.49", "knative-v1.10.3": "v0.37"} {
		if got, err := knativeLine(release, 0); err != nil || got != want {
			t.Errorf("%s: %s, %v; want %s", release, got, err, want)
		}
	}
	if got, _ := knativeLine("knative-v1.22.0", 1); got != "v0.48" {
		t.Errorf("one line behind knative-v1.22.0: %s", got)
	}
	if _, err := knativeLine("v1.22.0", 0); err == nil {
		t.Error("v1.22.0 accepted as a Knative release")
	}
}
