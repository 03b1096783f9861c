// Package validate holds the offline checks of the Knative deployment (knative/, kind-config.yaml,
// deploy/docker/, scripts/deploy.sh): every manifest is decoded into Knative's own API types and
// run through their SetDefaults and Validate, checked against the CRD schemas shipped in the same
// module versions, and cross-checked against the application's settings, the kn commands of the
// deploy script and the Dockerfile.
//
// The checks are ordinary functions of a Repo (a checkout, see OpenRepo) that return the
// problems they find, one sentence each; an error means a check could not run at all. By
// responsibility:
//
//   - repo.go: the checkout and what the checks read from it (versions.env, settings.py,
//     deploy.sh's offline helpers and generated Secrets);
//   - bundle.go: the manifests of knative/ as its kustomization lists them;
//   - crdschema.go: the CRDs of the Go modules in use and a structural-schema validator;
//   - checks.go: CheckManifests, every manifest check on a bundle, grouped in checks_api.go
//     (kinds, Knative validation, strict decoding), checks_messaging.go (sinks, RabbitMQ
//     topology, sources' delivery), checks_config.go (Secret and ConfigMap references, the
//     settings) and checks_workloads.go (the functions' Services, the data services);
//   - checks_files.go: the kustomization's file list and kind-config.yaml;
//   - checks_monitoring.go: knative/monitoring/ (Prometheus Operator objects, applied apart), the
//     PrometheusRule rendered from monitoring/rules/, and the alerts' promtool tests;
//   - dockerfile.go: the function images' Dockerfile, the images deploy.sh builds, hadolint;
//   - kn.go: what deploy.sh does with kn (run as `go tool kn`, the kn go/go.mod pins);
//   - versions.go: the pinned Knative releases against the Go modules that validate them.
//
// The tests are thin: each runs one check and reports its problems, and
// testdata/broken/ holds manifests each check must catch. `go test ./validate/...` from go/
// runs them.
package validate
