// ClusterActions from the runtime: evictions, events and batch resources of the colocation controllers reach the
// implementation the Agent was given (the Kubernetes client in a cluster), or its own recording one standalone.
#include <catch2/catch.hpp>

#include <thread>

#include "tests/controllers/colocation/agent_world.h"

using namespace slo;
using namespace std::chrono_literals;

TEST_CASE("agent: evictions, events and batch resources reach ClusterActions from the runtime", "[unit][colocation]") {
  test::World w;
  w.config("agent:\n  nodeName: node-1\n  tickMs: 20\n  statsIntervalMs: 100\n"
           "  controllers: {enabled: [BeSuppressionController, ReclaimedController]}\n"
           "clusterStrategy:\n"
           "  resourceThresholdStrategy: {memoryEvictThresholdPercent: 70, memoryEvictLowerPercent: 60,\n"
           "                              periodMillis: 10}\n"
           "  colocationStrategy: {cpuReclaimThresholdPercent: 50, coldStartSeconds: 0}\n");
  auto cluster = std::make_shared<agent::RecordingClusterActions>();
  auto opts = w.options();
  opts.cluster = cluster;
  agent::Agent a(std::move(opts));
  REQUIRE_FALSE(a.init());
  CHECK(&a.cluster() == cluster.get());
  REQUIRE(a.sync_pods_now());
  a.tick(true, true);
  // Reclaimed published batch resources through the runtime's ClusterActions (24 × 50 % = 12 cores, nothing used).
  REQUIRE(cluster->node_resources.count("kubernetes.io/batch-cpu"));
  // The LS pod's peak estimate is the histogram's smallest bucket (5 millicores) × 1.1.
  CHECK(cluster->node_resources.at("kubernetes.io/batch-cpu") <= 12000);
  CHECK(cluster->node_resources.at("kubernetes.io/batch-cpu") >= 11900);
  CHECK(cluster->node_resources.at("kubernetes.io/batch-memory") > 0);
  CHECK(cluster->evictions.empty());
  // Memory pressure: 90 % used ≥ 70 %: the BE pod (and only it) is evicted, with an event naming the reason.
  w.set_memory_used_percent(90);
  std::this_thread::sleep_for(20ms);  // one suppression period (periodMillis 10) on the real steady clock
  a.tick(true, true);
  REQUIRE(cluster->evictions.size() == 1);
  CHECK(cluster->evictions[0].pod.name == "pod-1");
  CHECK(cluster->evictions[0].reason.find("memoryEvictThresholdPercent") != std::string::npos);
  REQUIRE(cluster->events.size() == 1);
  CHECK(cluster->events[0].find("default/pod-1 Warning EvictedByMemoryPressure") == 0);
  // Standalone without an explicit implementation: the runtime still hands the controllers a recording one.
  test::World w2;
  w2.config("agent: {nodeName: node-1, controllers: {enabled: [ReclaimedController]}}\n");
  agent::Agent b(w2.options());
  REQUIRE_FALSE(b.init());
  REQUIRE(b.sync_pods_now());
  b.tick(true, true);
  CHECK(b.cluster().standalone());
  auto* rec = dynamic_cast<agent::RecordingClusterActions*>(&b.cluster());
  REQUIRE(rec);
  CHECK(rec->node_resources.count("kubernetes.io/batch-cpu"));
}
