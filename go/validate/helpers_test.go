package validate

import (
	"sync"
	"testing"
)

var (
	repoOnce sync.Once
	repo     *Repo
	repoErr  error
)

// testRepo is the checkout these tests live in (go/validate is two levels below its root), one
// Repo for all tests so the generated Secrets and the CRD schemas are read once.
func testRepo(t testing.TB) *Repo {
	t.Helper()
	repoOnce.Do(func() { repo, repoErr = OpenRepo("../..") })
	if repoErr != nil {
		t.Fatal(repoErr)
	}
	return repo
}

// report fails the test with every problem, one per line.
func report(t testing.TB, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

// check stops the test on an error (a check that could not run) and reports the problems.
func check(t testing.TB, problems []string, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	report(t, problems)
}

// loadBundle loads knative/ as its kustomization lists it, reporting what does not parse.
func loadBundle(t testing.TB, r *Repo) *Bundle {
	t.Helper()
	b, problems, err := r.LoadBundle(nil)
	check(t, problems, err)
	return b
}
