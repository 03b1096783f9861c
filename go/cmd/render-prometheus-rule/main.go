// Command render-prometheus-rule prints knative/monitoring/prometheus-rule.yaml: the rules of
// monitoring/rules/ as one PrometheusRule (`make prometheus-rule` writes it; go/validate checks it).
package main

import (
	"fmt"
	"os"

	"github.com/video2audio/video2audio/go/validate"
)

func main() {
	repo, err := validate.OpenRepo("..")
	if err == nil {
		var out string
		if out, err = repo.RenderPrometheusRule(); err == nil {
			_, err = fmt.Print(out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "render-prometheus-rule:", err)
		os.Exit(1)
	}
}
