package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"sigs.k8s.io/yaml"

	rmqv1alpha1 "knative.dev/eventing-rabbitmq/pkg/apis/sources/v1alpha1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	duckv1 "knative.dev/pkg/apis/duck/v1"
)

// sinkMap maps a Knative Service name (a manifest's sink.ref.name) to the URL
// where that function listens locally.
type sinkMap map[string]*url.URL

// parseSinkMap reads "name=url,name=url".
func parseSinkMap(s string) (sinkMap, error) {
	m := sinkMap{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, raw, ok := strings.Cut(part, "=")
		if !ok || name == "" || raw == "" {
			return nil, fmt.Errorf("sink map entry %q is not name=url", part)
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("sink map entry %q: %q is not an absolute URL", part, raw)
		}
		m[name] = u
	}
	return m, nil
}

// resolve turns a manifest's Destination into a local URL the way the
// cluster's addressable resolver would: a ref becomes the Service's address
// (here looked up in the map) and a uri next to a ref is a path relative to it.
func (m sinkMap) resolve(d *duckv1.Destination) (*url.URL, error) {
	if d == nil {
		return nil, fmt.Errorf("manifest has no spec.sink")
	}
	if d.Ref == nil {
		if d.URI == nil {
			return nil, fmt.Errorf("spec.sink has neither ref nor uri")
		}
		u := url.URL(*d.URI)
		return &u, nil
	}
	if d.Ref.Kind != "Service" || !strings.HasPrefix(d.Ref.APIVersion, "serving.knative.dev/") {
		return nil, fmt.Errorf("spec.sink.ref must be a serving.knative.dev Service, got %s %s", d.Ref.APIVersion, d.Ref.Kind)
	}
	base, ok := m[d.Ref.Name]
	if !ok {
		return nil, fmt.Errorf("no local URL for Service %q in the sink map", d.Ref.Name)
	}
	if d.URI == nil {
		u := *base
		return &u, nil
	}
	rel := url.URL(*d.URI)
	return base.ResolveReference(&rel), nil
}

// readManifest strictly decodes one YAML document into obj, so a misspelled
// field fails here instead of being ignored silently.
func readManifest(path string, obj any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.UnmarshalStrict(raw, obj); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func loadRabbitmqSource(path string) (*rmqv1alpha1.RabbitmqSource, error) {
	src := &rmqv1alpha1.RabbitmqSource{}
	if err := readManifest(path, src); err != nil {
		return nil, err
	}
	if src.APIVersion != rmqv1alpha1.SchemeGroupVersion.String() || src.Kind != "RabbitmqSource" {
		return nil, fmt.Errorf("%s: want %s RabbitmqSource, got %s %s", path, rmqv1alpha1.SchemeGroupVersion, src.APIVersion, src.Kind)
	}
	return src, nil
}

func loadPingSource(path string) (*sourcesv1.PingSource, error) {
	src := &sourcesv1.PingSource{}
	if err := readManifest(path, src); err != nil {
		return nil, err
	}
	if src.APIVersion != sourcesv1.SchemeGroupVersion.String() || src.Kind != "PingSource" {
		return nil, fmt.Errorf("%s: want %s PingSource, got %s %s", path, sourcesv1.SchemeGroupVersion, src.APIVersion, src.Kind)
	}
	return src, nil
}
