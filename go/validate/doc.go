// Package validate holds the offline checks of the Knative deployment (knative/, kind-config.yaml,
// deploy/docker/, scripts/deploy.sh): every manifest is decoded into Knative's own API types and
// run through their SetDefaults and Validate, checked against the CRD schemas shipped in the same
// module versions, and cross-checked against the application's settings, the kn commands of the
// deploy script and the Dockerfile. Everything lives in the _test.go files; `go test ./validate/...`
// from go/ runs it.
package validate
