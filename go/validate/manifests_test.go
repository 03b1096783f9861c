package validate

import "testing"

func TestKustomizationListsEveryManifestAndEachParses(t *testing.T) {
	problems, err := testRepo(t).CheckKustomization()
	check(t, problems, err)
}

func TestManifestsPassAllChecks(t *testing.T) {
	r := testRepo(t)
	problems, err := r.CheckManifests(loadBundle(t, r))
	check(t, problems, err)
}

// The platform manifest for kind decodes strictly and matches kind-config.yaml's port mapping.
func TestKindConfigMapsKourierNodePort(t *testing.T) {
	problems, err := testRepo(t).CheckKindConfig()
	check(t, problems, err)
}
