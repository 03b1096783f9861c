package validate

import (
	"testing"
)

// The pinned adapter's prefetch, read from its own code: the number consumer_timeout is sized for.
func TestAdapterPrefetchIsTheFixedHundred(t *testing.T) {
	if got := AdapterPrefetch(); got != 100 {
		t.Fatalf("AdapterPrefetch() = %d; knative/rabbitmq/cluster.yaml's comment assumes 100", got)
	}
}

func TestConsumerTimeoutNeededRoundsTheWindowUp(t *testing.T) {
	if got := ConsumerTimeoutNeeded(100, 3, 600); got != 34*600 {
		t.Fatalf("ConsumerTimeoutNeeded(100, 3, 600) = %d, want %d", got, 34*600)
	}
}

func TestRabbitmqBytesKnowsBinaryAndDecimalUnits(t *testing.T) {
	for in, want := range map[string]int64{"2GB": 2e9, "1GiB": 1 << 30, "500MB": 5e8, "50000000": 5e7, "512MiB": 512 << 20} {
		if got, err := rabbitmqBytes(in); err != nil || got != want {
			t.Errorf("rabbitmqBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := rabbitmqBytes("2 gigs"); err == nil {
		t.Error(`rabbitmqBytes("2 gigs") accepted`)
	}
}

// The local broker (scripts/services.sh) takes consumer_timeout from cluster.yaml.
func TestLocalBrokerTakesConsumerTimeoutFromTheCluster(t *testing.T) {
	script, err := testRepo(t).ReadFile("scripts/services.sh")
	if err != nil {
		t.Fatal(err)
	}
	if problems := localConsumerTimeoutProblems(script); len(problems) > 0 {
		t.Fatal(problems)
	}
}

func TestLocalBrokerWithALiteralConsumerTimeoutIsCaught(t *testing.T) {
	broken := "cat >conf <<CONF\nconsumer_timeout = 10800000\nCONF\n"
	if problems := localConsumerTimeoutProblems(broken); len(problems) != 2 {
		t.Fatalf("want the literal and the missing reference reported, got %v", problems)
	}
}
