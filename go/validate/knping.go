package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// kn has no --target for sources (only `kn service create` writes files instead of talking to a
// cluster), so the PingSource is rendered by running the real `kn source ping create` with
// deploy.sh's arguments against a recording endpoint: it answers kn's sink lookup with the
// Knative Service of knative/ and keeps the PingSource kn POSTs — exactly the object an API server
// would receive. Nothing is validated by the endpoint; the checks run on what it recorded.

// pingRecorder is the HTTP endpoint kn talks to in place of an API server.
type pingRecorder struct {
	ksvc map[string][]byte // "<namespace>/<name>" -> the Service as JSON, for the sink lookup

	mu       sync.Mutex
	created  []byte   // the body of the PingSource POST
	createNS string   // the namespace it was POSTed to (the body need not name it)
	requests []string // every request, for the error message when kn fails
}

func (p *pingRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	p.mu.Lock()
	p.requests = append(p.requests, req.Method+" "+req.URL.Path)
	p.mu.Unlock()
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	// /apis/<group>/<version>/namespaces/<ns>/<resource>[/<name>]
	if len(parts) >= 6 && parts[0] == "apis" && parts[3] == "namespaces" {
		group, ns, resource := parts[1], parts[4], parts[5]
		w.Header().Set("Content-Type", "application/json")
		switch {
		case req.Method == http.MethodGet && group == "serving.knative.dev" && resource == "services" && len(parts) == 7:
			if svc, ok := p.ksvc[ns+"/"+parts[6]]; ok {
				_, _ = w.Write(svc)
				return
			}
		case req.Method == http.MethodPost && group == "sources.knative.dev" && resource == "pingsources" && len(parts) == 6:
			p.mu.Lock()
			p.created, p.createNS = body, ns
			p.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(body)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"not recorded: %s %s"}`, req.Method, req.URL.Path)
}

// RenderKnPingSource runs `kn source ping create` (kn: a command, see WriteGoToolKn) with the
// arguments of `deploy.sh kn-ping-args` and returns the PingSource kn sent, as JSON. The sink's
// Knative Services come from b.
func (r *Repo) RenderKnPingSource(b *Bundle, kn string) ([]byte, error) {
	rec := &pingRecorder{ksvc: map[string][]byte{}}
	for _, d := range b.Find(gvkKService) {
		rec.ksvc[d.Namespace+"/"+d.Name] = d.JSON
	}
	server := httptest.NewServer(rec)
	defer server.Close()

	dir, err := os.MkdirTemp("", "kn-ping-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	kubeconfig := filepath.Join(dir, "kubeconfig")
	config := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: recorder\n  cluster:\n    server: %s\n"+
		"users:\n- name: recorder\n  user: {}\ncontexts:\n- name: recorder\n  context:\n    cluster: recorder\n    user: recorder\n"+
		"current-context: recorder\n", server.URL)
	if err := os.WriteFile(kubeconfig, []byte(config), 0o600); err != nil {
		return nil, err
	}
	args, err := r.DeployScriptLines("kn-ping-args")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(kn, append([]string{"source", "ping", "create", "--kubeconfig", kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if runErr != nil || rec.created == nil {
		return nil, fmt.Errorf("kn source ping create %s: %v\n%s\nrequests: %s", strings.Join(args, " "), runErr, out.String(), strings.Join(rec.requests, ", "))
	}
	// As the API server does: the object lives in the namespace of the URL it was POSTed to.
	var obj map[string]any
	if err := json.Unmarshal(rec.created, &obj); err != nil {
		return nil, fmt.Errorf("kn sent a PingSource that is not JSON: %w", err)
	}
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		obj["metadata"] = meta
	}
	meta["namespace"] = rec.createNS
	return json.Marshal(obj)
}
