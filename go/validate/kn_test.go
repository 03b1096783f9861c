package validate

import "testing"

// The Services deploy.sh creates with `kn service create` (rendered offline with --target, by
// kn as go/go.mod pins it: `go tool kn`) validate and are the Services of knative/.
func TestKnServiceCreateMatchesManifests(t *testing.T) {
	r := testRepo(t)
	kn, err := r.WriteGoToolKn(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := r.RenderKnServices(kn, dir); err != nil {
		t.Fatal(err)
	}
	b := loadBundle(t, r)
	for _, fn := range Functions {
		t.Run(fn, func(t *testing.T) {
			problems, err := r.CheckKnService(b, dir, fn)
			check(t, problems, err)
		})
	}
}

// The PingSource deploy.sh makes — `kn source ping create` plus the merge patch for the fields kn
// has no flag for — is the PingSource of knative/eventing/expire-ping.yaml, and validates.
func TestKnPingSourceMatchesManifest(t *testing.T) {
	r := testRepo(t)
	problems, err := r.CheckKnPingSource(loadBundle(t, r))
	check(t, problems, err)
}

func TestParseKnArgs(t *testing.T) {
	name, flags, err := parseKnArgs([]string{"expire-ping", "--namespace", "video2audio", "--data", "a", "--data", "b"})
	if err != nil || name != "expire-ping" || flags["--namespace"][0] != "video2audio" || len(flags["--data"]) != 2 {
		t.Errorf("%q %v %v", name, flags, err)
	}
	for _, bad := range [][]string{nil, {"--namespace", "x"}, {"name", "--namespace"}, {"name", "value"}} {
		if _, _, err := parseKnArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
