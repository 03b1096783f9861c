package validate

import (
	"slices"
	"strings"
	"testing"
)

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

// The PingSource deploy.sh makes — the real `kn source ping create` with its arguments, plus the
// merge patch for the fields kn has no flag for — is the PingSource of
// knative/eventing/expire-ping.yaml, and validates.
func TestKnPingSourceMatchesManifest(t *testing.T) {
	r := testRepo(t)
	b := loadBundle(t, r)
	created := renderKnPing(t, r, b)
	problems, err := r.CheckKnPingSource(b, created)
	check(t, problems, err)
}

// A PingSource kn would create with another schedule than the manifest's is reported.
func TestKnPingSourceDifferingFromTheManifestIsReported(t *testing.T) {
	r := testRepo(t)
	b, problems, err := r.LoadBundle(map[string]string{
		"knative/eventing/expire-ping.yaml": r.Path("go/validate/testdata/broken/ping-other-schedule.yaml"),
	})
	check(t, problems, err)
	problems, err = r.CheckKnPingSource(b, renderKnPing(t, r, b))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(problems, func(p string) bool {
		return strings.Contains(p, "PingSource differs") && strings.Contains(p, "*/5 * * * *")
	}) {
		t.Errorf("the differing schedule was not reported; got %q", problems)
	}
}

func renderKnPing(t *testing.T, r *Repo, b *Bundle) []byte {
	t.Helper()
	kn, err := r.WriteGoToolKn(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	created, err := r.RenderKnPingSource(b, kn)
	if err != nil {
		t.Fatal(err)
	}
	return created
}
