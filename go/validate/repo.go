package validate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Namespace is where every Video2Audio object lives.
const Namespace = "video2audio"

// Functions are the five Knative Services, in deploy order.
var Functions = []string{"auth", "upload", "convert", "notify", "expire"}

// httpFunctions answer plain HTTP (readiness on /healthz, public); the others take CloudEvents.
var httpFunctions = map[string]bool{"auth": true, "upload": true}

// secretSettings are the settings that must come from a Secret, never from the ConfigMap
// (team conventions).
var secretSettings = []string{
	"JWT_SECRET", "LINK_SECRET", "SMTP_PASSWORD",
	"DATABASE_URL", "MONGO_URL", "RABBITMQ_URL",
	// Guards /metrics of every function (auth and upload are public).
	"METRICS_TOKEN",
}

// Repo is a checkout of the project as the checks read it. It keeps what is costly to produce
// (the Secrets deploy.sh generates, the CRD schemas), so one Repo serves many checks.
type Repo struct {
	// Root is the repository's top directory (the one holding knative/ and go/).
	Root string

	secretsOnce sync.Once
	secrets     []Doc
	secretsErr  error

	crds crdCache
}

// OpenRepo opens the checkout whose top directory is root.
func OpenRepo(root string) (*Repo, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	for _, want := range []string{"knative", filepath.Join("go", "go.mod"), filepath.Join("scripts", "deploy.sh")} {
		if _, err := os.Stat(filepath.Join(abs, want)); err != nil {
			return nil, fmt.Errorf("%s is not the repository root: %w", abs, err)
		}
	}
	return &Repo{Root: abs}, nil
}

// Path is the absolute path of a slash-separated path relative to the repository root.
func (r *Repo) Path(rel string) string {
	return filepath.Join(r.Root, filepath.FromSlash(rel))
}

// GoDir is the directory of the Go module (go/): where go list, go mod and go tool run.
func (r *Repo) GoDir() string { return r.Path("go") }

// ReadFile returns a file of the repository, by its path relative to the root.
func (r *Repo) ReadFile(rel string) (string, error) {
	data, err := os.ReadFile(r.Path(rel))
	if err != nil {
		return "", fmt.Errorf("%s: %w", rel, err)
	}
	return string(data), nil
}

// Versions reads scripts/versions.env (KEY=value lines).
func (r *Repo) Versions() (map[string]string, error) {
	text, err := r.ReadFile("scripts/versions.env")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("scripts/versions.env: not KEY=value: %q", line)
		}
		out[key] = strings.Trim(value, `"'`)
	}
	return out, sc.Err()
}

// Settings are the application's settings: each environment variable mapped to its default, as
// the functions' own settings code reports them (python -m video2audio.core.settings defaults).
type Settings map[string]string

// Python is the project's interpreter, with the video2audio package installed (make install).
func (r *Repo) Python() (string, error) {
	python := filepath.Join(r.Root, ".venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		return "", fmt.Errorf("%s not found: run `make install` first", python)
	}
	return python, nil
}

// Settings asks the functions' settings code for every setting and its default.
func (r *Repo) Settings() (Settings, error) {
	python, err := r.Python()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(python, "-m", "video2audio.core.settings", "defaults")
	cmd.Dir = r.Root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("python -m video2audio.core.settings defaults: %w", err)
	}
	settings := Settings{}
	if err := json.Unmarshal(out, &settings); err != nil {
		return nil, fmt.Errorf("settings defaults: %w", err)
	}
	if len(settings) < 10 {
		return nil, fmt.Errorf("settings defaults: only %d settings", len(settings))
	}
	return settings, nil
}

// CheckSettings runs env through the functions' own settings parser and checks; it returns the
// parser's complaint, or "" when a function would start with these values.
func (r *Repo) CheckSettings(env map[string]string) (string, error) {
	python, err := r.Python()
	if err != nil {
		return "", err
	}
	input, err := json.Marshal(env)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(python, "-m", "video2audio.core.settings", "check")
	cmd.Dir = r.Root
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 {
			return strings.TrimSpace(stderr.String()), nil
		}
		return "", fmt.Errorf("python -m video2audio.core.settings check: %w: %s", err, stderr.String())
	}
	return "", nil
}

// DeployScript runs scripts/deploy.sh with arguments (and env added to this process's
// environment) and returns its standard output.
//
// V2A_IMAGE_TAG is set to versions.env's IMAGE_TAG, the tag knative/services/ names: deploy.sh
// itself tags the images it builds with a digest of their build context.
func (r *Repo) DeployScript(env []string, args ...string) (string, error) {
	versions, err := r.Versions()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("bash", append([]string{r.Path("scripts/deploy.sh")}, args...)...)
	cmd.Env = append(append(os.Environ(), "V2A_IMAGE_TAG="+versions["IMAGE_TAG"]), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/deploy.sh %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// DeployScriptLines runs deploy.sh and splits its output into lines (the kn argument lists).
func (r *Repo) DeployScriptLines(args ...string) ([]string, error) {
	out, err := r.DeployScript(nil, args...)
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(out, "\n"), "\n"), nil
}

// GeneratedSecrets are the Secrets deploy.sh generates, rendered offline (`deploy.sh secrets`);
// rendered once per Repo.
func (r *Repo) GeneratedSecrets() ([]Doc, error) {
	r.secretsOnce.Do(func() {
		out, err := r.DeployScript(nil, "secrets")
		if err != nil {
			r.secretsErr = err
			return
		}
		docs, problems := parseManifest("deploy.sh secrets", []byte(out))
		if len(problems) > 0 {
			r.secretsErr = fmt.Errorf("deploy.sh secrets: %s", strings.Join(problems, "; "))
			return
		}
		r.secrets = docs
	})
	return r.secrets, r.secretsErr
}
