package validate

import (
	"encoding/json"
	"fmt"
	"slices"

	rmqsourcev1alpha1 "knative.dev/eventing-rabbitmq/pkg/apis/sources/v1alpha1"
	rmqv1beta1 "knative.dev/eventing-rabbitmq/third_party/pkg/apis/rabbitmq.com/v1beta1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	duckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/video2audio/video2audio/go/internal/delivery"
)

// sinkOf returns a source's sink (PingSource or RabbitmqSource).
func sinkOf(d Doc) (*duckv1.Destination, error) {
	switch d.GVK() {
	case gvkPing:
		var s sourcesv1.PingSource
		if err := decodeStrict(d, &s); err != nil {
			return nil, err
		}
		return &s.Spec.Sink, nil
	case gvkRabbitmqSrc:
		var s rmqsourcev1alpha1.RabbitmqSource
		if err := decodeStrict(d, &s); err != nil {
			return nil, err
		}
		return s.Spec.Sink, nil
	}
	return nil, nil
}

// checkSinks: every source's sink is a Knative Service defined in knative/ (a ref, not a URI,
// so the address follows the Service).
func checkSinks(b *Bundle) []string {
	var problems []string
	for _, d := range append(b.Find(gvkPing), b.Find(gvkRabbitmqSrc)...) {
		sink, err := sinkOf(d)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", d, err))
			continue
		}
		if sink == nil || sink.Ref == nil {
			problems = append(problems, fmt.Sprintf("%s: spec.sink.ref is required (a Knative Service)", d))
			continue
		}
		if sink.URI != nil {
			problems = append(problems, fmt.Sprintf("%s: spec.sink.uri set; use only the ref", d))
		}
		ref := sink.Ref
		if ref.APIVersion != "serving.knative.dev/v1" || ref.Kind != "Service" {
			problems = append(problems, fmt.Sprintf("%s: sink must be a serving.knative.dev/v1 Service, not %s %s", d, ref.APIVersion, ref.Kind))
			continue
		}
		ns := ref.Namespace
		if ns == "" {
			ns = d.Namespace
		}
		if _, ok := b.Get(gvkKService, ns, ref.Name); !ok {
			problems = append(problems, fmt.Sprintf("%s: sink names Knative Service %s/%s, which is not in knative/", d, ns, ref.Name))
		}
	}
	return problems
}

// clusterRefOK: a rabbitmqClusterReference names the RabbitmqCluster in knative/.
func clusterRefOK(b *Bundle, d Doc, ref *rmqv1beta1.RabbitmqClusterReference) []string {
	if ref == nil || ref.Name == "" {
		return []string{fmt.Sprintf("%s: rabbitmqClusterReference.name is required", d)}
	}
	ns := ref.Namespace
	if ns == "" {
		ns = d.Namespace
	}
	if _, ok := b.Get(gvkCluster, ns, ref.Name); !ok {
		return []string{fmt.Sprintf("%s: rabbitmqClusterReference names RabbitmqCluster %s/%s, which is not in knative/", d, ns, ref.Name)}
	}
	return nil
}

// checkMessaging: the RabbitmqSources consume the application's queues (names from
// settings.py), the topology predeclares exactly the application's topology
// (src/video2audio/messaging.py), and the sources' delivery specs are well formed.
func checkMessaging(b *Bundle, settings Settings) []string {
	var problems []string
	exchange := settings["RABBITMQ_EXCHANGE"]
	dlx := settings["RABBITMQ_DEAD_LETTER_EXCHANGE"]
	workQueues := []string{settings["CONVERT_QUEUE"], settings["NOTIFY_QUEUE"]}
	if exchange == "" || dlx == "" || workQueues[0] == "" || workQueues[1] == "" {
		return []string{"settings.py: exchange/queue defaults not found"}
	}

	queues := map[string]rmqv1beta1.QueueSpec{}
	for _, d := range b.Find(gvkQueue) {
		var q rmqv1beta1.Queue
		if err := decodeStrict(d, &q); err != nil {
			continue // reported by checkTypedObjects
		}
		queues[q.Spec.Name] = q.Spec
		problems = append(problems, clusterRefOK(b, d, &q.Spec.RabbitmqClusterReference)...)
	}
	exchanges := map[string]rmqv1beta1.ExchangeSpec{}
	for _, d := range b.Find(gvkExchange) {
		var e rmqv1beta1.Exchange
		if err := decodeStrict(d, &e); err != nil {
			continue
		}
		exchanges[e.Spec.Name] = e.Spec
		problems = append(problems, clusterRefOK(b, d, &e.Spec.RabbitmqClusterReference)...)
	}
	bindings := map[string]bool{} // source|destination|routingKey
	for _, d := range b.Find(gvkBinding) {
		var bd rmqv1beta1.Binding
		if err := decodeStrict(d, &bd); err != nil {
			continue
		}
		if bd.Spec.DestinationType != "queue" {
			problems = append(problems, fmt.Sprintf("%s: destinationType must be queue", d))
		}
		bindings[bd.Spec.Source+"|"+bd.Spec.Destination+"|"+bd.Spec.RoutingKey] = true
		problems = append(problems, clusterRefOK(b, d, &bd.Spec.RabbitmqClusterReference)...)
	}

	for _, name := range []string{exchange, dlx} {
		e, ok := exchanges[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("topology: exchange %q (settings.py) is not declared", name))
		case e.Type != "direct" || !e.Durable || e.AutoDelete:
			problems = append(problems, fmt.Sprintf("topology: exchange %q must be direct and durable", name))
		}
	}
	for _, name := range workQueues {
		parked := name + ".parked"
		q, ok := queues[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("topology: queue %q (settings.py) is not declared", name))
		} else {
			if q.Type != "quorum" || !q.Durable || q.AutoDelete {
				problems = append(problems, fmt.Sprintf("topology: queue %q must be a durable quorum queue", name))
			}
			args := map[string]any{}
			if q.Arguments != nil {
				_ = json.Unmarshal(q.Arguments.Raw, &args)
			}
			if args["x-dead-letter-exchange"] != dlx || args["x-dead-letter-routing-key"] != name {
				problems = append(problems, fmt.Sprintf("topology: queue %q must dead-letter to %q with routing key %q, has %v", name, dlx, name, args))
			}
		}
		if p, ok := queues[parked]; !ok {
			problems = append(problems, fmt.Sprintf("topology: parked queue %q is not declared", parked))
		} else if p.Type != "quorum" || !p.Durable {
			problems = append(problems, fmt.Sprintf("topology: parked queue %q must be a durable quorum queue", parked))
		}
		if !bindings[exchange+"|"+name+"|"+name] {
			problems = append(problems, fmt.Sprintf("topology: no binding %s -> %s with routing key %s", exchange, name, name))
		}
		if !bindings[dlx+"|"+parked+"|"+name] {
			problems = append(problems, fmt.Sprintf("topology: no binding %s -> %s with routing key %s", dlx, parked, name))
		}
	}

	consumed := map[string]string{}
	for _, d := range b.Find(gvkRabbitmqSrc) {
		var s rmqsourcev1alpha1.RabbitmqSource
		if err := decodeStrict(d, &s); err != nil {
			continue
		}
		problems = append(problems, clusterRefOK(b, d, s.Spec.RabbitmqClusterReference)...)
		cfg := s.Spec.RabbitmqResourcesConfig
		if cfg == nil {
			continue // Validate reports it
		}
		if cfg.QueueName == "" {
			problems = append(problems, fmt.Sprintf("%s: spec.rabbitmqResourcesConfig.queueName is required", d))
		} else if !slices.Contains(workQueues, cfg.QueueName) {
			problems = append(problems, fmt.Sprintf("%s: queueName %q is not one of the application's queues %v (settings.py)", d, cfg.QueueName, workQueues))
		} else if other, dup := consumed[cfg.QueueName]; dup {
			problems = append(problems, fmt.Sprintf("%s: queue %q is already consumed by %s", d, cfg.QueueName, other))
		} else {
			consumed[cfg.QueueName] = d.Name
		}
		if !cfg.Predeclared {
			problems = append(problems, fmt.Sprintf("%s: predeclared must be true (the topology is declared with its dead-letter exchange)", d))
		}
		if cfg.Parallelism == nil {
			problems = append(problems, fmt.Sprintf("%s: set parallelism explicitly", d))
		}
		problems = append(problems, checkDelivery(d, s.Spec.Delivery)...)
	}
	for _, q := range workQueues {
		if _, ok := consumed[q]; !ok {
			problems = append(problems, fmt.Sprintf("no RabbitmqSource consumes queue %q", q))
		}
	}
	return problems
}

// checkDelivery: the RabbitmqSource's delivery spec, which its Validate does not look at.
func checkDelivery(d Doc, del *rmqsourcev1alpha1.DeliverySpec) []string {
	if del == nil {
		return []string{fmt.Sprintf("%s: spec.delivery (retry, backoffPolicy, backoffDelay) is required", d)}
	}
	var problems []string
	if del.Retry == nil || *del.Retry < 1 {
		problems = append(problems, fmt.Sprintf("%s: spec.delivery.retry must be at least 1", d))
	}
	if del.BackoffPolicy == nil || (*del.BackoffPolicy != "linear" && *del.BackoffPolicy != "exponential") {
		problems = append(problems, fmt.Sprintf("%s: spec.delivery.backoffPolicy must be linear or exponential", d))
	}
	// The rule local-eventing applies before it starts the adapter (go/internal/delivery).
	delay := ""
	if del.BackoffDelay != nil {
		delay = *del.BackoffDelay
	}
	if _, err := delivery.BackoffDelay(delay); err != nil {
		problems = append(problems, fmt.Sprintf("%s: spec.delivery.%v", d, err))
	}
	return problems
}
