// Kubelet layout: v1 and v2 × cgroupfs and systemd × containerd / CRI-O / docker on synthetic trees, the real EKS
// tree, and ID validation against path attacks.
#include <catch2/catch.hpp>

#include <vector>

#include "cgroups/kubelet_layout.h"
#include "tests/cgroups/fake_tree.h"

using namespace slo::cg;
using slo::test::FakeKind;
using slo::test::FakeTree;
using slo::test::TempDir;

namespace {
const std::string kUid = "7a96c459-d529-44ae-9f99-90d3798d6426";
const std::string kId = "1d3d308a7d48a27814a68bf33a44acf4441c9c02463ca0bc1cdfdc8c0b4a8496";
}  // namespace

TEST_CASE("layout matrix: mode x driver x runtime x tier", "[layout]") {
  for (auto kind : {FakeKind::v1_separate, FakeKind::v1_comounted, FakeKind::v2}) {
    for (auto driver : {Driver::cgroupfs, Driver::systemd}) {
      for (auto rt : {Runtime::containerd, Runtime::crio, Runtime::docker}) {
        for (auto tier : {QosTier::guaranteed, QosTier::burstable, QosTier::besteffort}) {
          TempDir t;
          FakeTree tree(t, kind);
          std::string expected = tree.add_pod(driver, tier, kUid, rt, kId);
          INFO("kind " << static_cast<int>(kind) << " driver " << to_string(driver) << " runtime " << to_string(rt)
                       << " tier " << to_string(tier) << " expected " << expected);
          auto fs = CgroupFs::open(tree.root());
          REQUIRE(fs.ok());
          auto l = KubeletLayout::detect(fs.value);
          REQUIRE(l);
          CHECK(l->driver == driver);
          auto pod = l->pod_dir(tier, kUid);
          REQUIRE(pod);
          CHECK(fs.value.exists(*pod, Controller::cpu));
          auto c = l->container_dir(*pod, ContainerRef{rt, kId});
          REQUIRE(c);
          CHECK(*c == expected);
          // Unknown runtime: found by trying every spelling.
          auto found = l->find_container_dir(fs.value, *pod, ContainerRef{Runtime::unknown, kId});
          REQUIRE(found);
          CHECK(*found == expected);
          auto q = fs.value.read(KnobRef{*found, Knob::cpu_quota, {}});
          REQUIRE(q.ok());
          CHECK(as_int(q.value) == -1);
        }
      }
    }
  }
}

TEST_CASE("layout spellings", "[layout]") {
  KubeletLayout sd{Driver::systemd, "kubepods.slice"};
  CHECK(sd.tier_dir(QosTier::guaranteed) == "kubepods.slice");
  CHECK(sd.tier_dir(QosTier::besteffort) == "kubepods.slice/kubepods-besteffort.slice");
  CHECK(*sd.pod_dir(QosTier::burstable, "a-b-c") ==
        "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda_b_c.slice");
  CHECK(*sd.pod_dir(QosTier::guaranteed, "a-b") == "kubepods.slice/kubepods-poda_b.slice");
  CHECK(*sd.container_dir_name(ContainerRef{Runtime::crio, "ab12"}) == "crio-ab12.scope");
  CHECK(*sd.container_dir_name(ContainerRef{Runtime::docker, "ab12"}) == "docker-ab12.scope");
  CHECK(*sd.container_dir_name(ContainerRef{Runtime::containerd, "ab12"}) == "cri-containerd-ab12.scope");
  KubeletLayout cf{Driver::cgroupfs, "parent/kubepods"};
  CHECK(cf.tier_dir(QosTier::burstable) == "parent/kubepods/burstable");
  CHECK(*cf.pod_dir(QosTier::guaranteed, "u1") == "parent/kubepods/podu1");
  CHECK(*cf.container_dir_name(ContainerRef{Runtime::crio, "ab12"}) == "crio-ab12");
  CHECK(*cf.container_dir_name(ContainerRef{Runtime::docker, "ab12"}) == "ab12");
}

TEST_CASE("pod UIDs and container IDs are validated (path attacks)", "[layout][security]") {
  KubeletLayout cf{Driver::cgroupfs, "kubepods"};
  const std::vector<std::string> attacks{"",  "..", "../x", "a/b", "x/../../etc", "a b", "a\nb", "ä", std::string(129, 'a'),
                                        std::string("a\0b", 3), "."};
  for (const std::string& bad : attacks) {
    INFO("uid '" << bad << "'");
    CHECK_FALSE(valid_pod_uid(bad));
    CHECK_FALSE(cf.pod_dir(QosTier::burstable, bad));
    CHECK_FALSE(valid_container_id(bad));
    CHECK_FALSE(cf.container_dir("kubepods/podx", ContainerRef{Runtime::containerd, bad}));
  }
  CHECK_FALSE(valid_pod_uid(std::string(65, 'a')));
  CHECK(valid_container_id(std::string(128, 'a')));
  CHECK(valid_pod_uid(kUid));
  CHECK(valid_container_id(kId));
  CHECK_FALSE(valid_container_id("abc-def"));
  CHECK_FALSE(cf.container_dir("../kubepods", ContainerRef{Runtime::containerd, "abc"}));
  CHECK_FALSE(cf.container_dir("", ContainerRef{Runtime::containerd, "abc"}));
  auto p = parse_container_id("containerd://" + kId);
  REQUIRE(p);
  CHECK(p->runtime == Runtime::containerd);
  CHECK(p->id == kId);
  CHECK(parse_container_id("cri-o://abc")->runtime == Runtime::crio);
  CHECK(parse_container_id("docker://abc")->runtime == Runtime::docker);
  CHECK(parse_container_id("abc")->runtime == Runtime::unknown);
  CHECK(parse_container_id("other://abc")->runtime == Runtime::unknown);
  CHECK_FALSE(parse_container_id("containerd://../../etc"));
  CHECK_FALSE(parse_container_id("containerd://"));
  CHECK_FALSE(parse_container_id("docker://a/b"));
}

TEST_CASE("real fixture: EKS systemd driver + containerd", "[layout][fixture]") {
  TempDir t;
  std::string root = t.copy_fixture("cgroup/elastic-amzn2-eks-v1-systemd-containerd", "amzn2") + "/sys/fs/cgroup";
  auto fs = CgroupFs::open(root);
  REQUIRE(fs.ok());
  auto l = KubeletLayout::detect(fs.value);
  REQUIRE(l);
  CHECK(l->driver == Driver::systemd);
  CHECK(l->kubepods == "kubepods.slice");
  auto pod = l->pod_dir(QosTier::burstable, kUid);
  REQUIRE(pod);
  auto c = l->find_container_dir(fs.value, *pod, *parse_container_id("containerd://" + kId));
  REQUIRE(c);
  CHECK(*c == "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod7a96c459_d529_44ae_9f99_90d3798d6426"
              ".slice/cri-containerd-" + kId + ".scope");
  auto shares = fs.value.read(KnobRef{*c, Knob::cpu_shares, {}});
  REQUIRE(shares.ok());
  CHECK(as_int(shares.value) == 102);
  auto mem = fs.value.read(KnobRef{*c, Knob::memory_limit, {}});
  REQUIRE(mem.ok());
  CHECK(as_int(mem.value) == 2147483648);
  auto cpus = fs.value.read(KnobRef{*c, Knob::cpuset_cpus, {}});
  REQUIRE(cpus.ok());
  CHECK(std::get<CpuSet>(cpus.value).to_string() == "0-7");
  auto usage = fs.value.cpu_usage_ns(*c);
  REQUIRE(usage.ok());
  CHECK(usage.value > 0);
  auto st = fs.value.cpu_stat(*c);
  REQUIRE(st.ok());
  CHECK(st.value.nr_periods == 0);
  // A pod that is not there resolves to nothing rather than to a guess.
  CHECK_FALSE(l->find_container_dir(fs.value, *l->pod_dir(QosTier::besteffort, "nope"), ContainerRef{Runtime::unknown, kId}));
}

TEST_CASE("no kubepods: detect gives nullopt; parent prefix works", "[layout]") {
  TempDir t;
  std::string root = t.copy_fixture("cgroup/elastic-docker-v1-cgroupfs", "d") + "/sys/fs/cgroup";
  auto fs = CgroupFs::open(root);
  REQUIRE(fs.ok());
  CHECK_FALSE(KubeletLayout::detect(fs.value));
  FakeTree tree(t, FakeKind::v2, "v2");
  tree.add_cgroup("demo/kubepods/besteffort");
  auto fs2 = CgroupFs::open(tree.root());
  REQUIRE(fs2.ok());
  CHECK_FALSE(KubeletLayout::detect(fs2.value));
  auto l = KubeletLayout::detect(fs2.value, "demo");
  REQUIRE(l);
  CHECK(l->kubepods == "demo/kubepods");
  CHECK_FALSE(KubeletLayout::detect(fs2.value, "../demo"));
}
