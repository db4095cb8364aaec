#include <catch2/catch.hpp>

#include "rdt/info.h"
#include "rdt/root.h"
#include "tests/rdt/rdt_fixtures.h"

using namespace slo::rdt;
using namespace slo::rdt::testing;
using slo::test::TempDir;

namespace {

Info read_tree(const TempDir& tmp, const std::string& tree, const std::string& vendor = "GenuineIntel",
               const std::string& mounts = "") {
  std::string root = copy_tree(tmp, tree);
  std::string proc = make_proc(tmp, vendor, mounts);
  auto dir = open_fake_root(root);
  ReadInfoOptions o;
  o.proc_root = proc;
  o.resctrl_path = "/sys/fs/resctrl";
  auto info = read_info(dir, o);
  if (!info.ok()) FAIL(info.status.describe());
  return info.value;
}

std::vector<std::string> cache_names(const Info& i) {
  std::vector<std::string> out;
  for (const auto& c : i.caches) out.push_back(c.name);
  return out;
}

}  // namespace

TEST_CASE("every fixture tree is accepted by contents and rejected by the mount check", "[rdt][detect]") {
  for (const auto& tree : all_trees()) {
    SECTION(tree) {
      TempDir tmp;
      std::string root = copy_tree(tmp, tree);
      auto trusted = open_resctrl_root(root, RootCheck::trust_contents);
      REQUIRE(trusted.ok());
      CHECK_FALSE(trusted.value.kernel_mount);
      auto strict = open_resctrl_root(root, RootCheck::mount_magic);
      REQUIRE_FALSE(strict.ok());
      CHECK(strict.status.detail.find("is not a resctrl mount") != std::string::npos);
      CHECK(strict.status.detail.find("0x7655821") != std::string::npos);
    }
  }
}

TEST_CASE("a missing root or a directory without info/ is not resctrl", "[rdt][detect]") {
  TempDir tmp;
  auto missing = open_resctrl_root(tmp.sub("nope"), RootCheck::trust_contents);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status.detail.find("resctrl not mounted at") != std::string::npos);
  CHECK(missing.status.detail.find("ENOENT") != std::string::npos);
  tmp.mkdirs("empty");
  auto empty = open_resctrl_root(tmp.sub("empty"), RootCheck::trust_contents);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status.detail.find("no info/") != std::string::npos);
}

TEST_CASE("capabilities of resctrl.full", "[rdt][info]") {
  TempDir tmp;
  Info i = read_tree(tmp, "resctrl.full");
  CHECK(cache_names(i) == std::vector<std::string>{"L3"});
  const auto* l3 = i.cache("L3");
  REQUIRE(l3);
  CHECK(l3->rules.cbm_mask == 0xfffffu);
  CHECK(l3->rules.min_cbm_bits == 1);
  CHECK_FALSE(l3->rules.sparse_masks);  // no sparse_masks file → false
  CHECK(l3->shareable_bits == 0xc0000u);
  CHECK(l3->num_closids == 16);
  CHECK(l3->domains == std::vector<int>{0, 1, 2, 3});
  REQUIRE(i.mb);
  CHECK(i.mb->bandwidth_gran == 10);
  CHECK(i.mb->min_bandwidth == 10);
  CHECK(i.mb->delay_linear);
  CHECK(i.mb->num_closids == 8);
  CHECK(i.mb->unit == MbUnit::percent);
  CHECK(i.mb->domains == std::vector<int>{0, 1, 2, 3});
  REQUIRE(i.l3_mon);
  CHECK(i.l3_mon->num_rmids == 192);
  CHECK(i.l3_mon->features == std::vector<std::string>{"llc_occupancy", "mbm_total_bytes", "mbm_local_bytes"});
  CHECK(i.usable_closids == 8);  // min(L3 16, MB 8)
  CHECK(i.vendor == Vendor::intel);
  CHECK_FALSE(i.l3_cdp);
}

TEST_CASE("capabilities of the other trees", "[rdt][info]") {
  TempDir tmp;
  SECTION("nomb: min_cbm_bits 2, no MB") {
    Info i = read_tree(tmp, "resctrl.nomb");
    CHECK(cache_names(i) == std::vector<std::string>{"L3"});
    CHECK(i.cache("L3")->rules.min_cbm_bits == 2);
    CHECK_FALSE(i.mb);
    CHECK(i.l3_mon);
    CHECK(i.usable_closids == 16);
  }
  SECTION("nomb.cdp: L3CODE + L3DATA") {
    Info i = read_tree(tmp, "resctrl.nomb.cdp");
    CHECK(cache_names(i) == std::vector<std::string>{"L3CODE", "L3DATA"});
    CHECK(i.l3_cdp);
    CHECK(i.usable_closids == 8);
    CHECK(i.cache("L3DATA")->domains == std::vector<int>{0, 1, 2, 3});
    CHECK(i.l3_mon->num_rmids == 176);
  }
  SECTION("nol3: MB only") {
    Info i = read_tree(tmp, "resctrl.nol3");
    CHECK(i.caches.empty());
    REQUIRE(i.mb);
    CHECK(i.mb->unit == MbUnit::percent);
    CHECK(i.has_allocation());
  }
  SECTION("nol3.mbps: MBps recognised from the root schemata without a mounts line") {
    Info i = read_tree(tmp, "resctrl.nol3.mbps");
    REQUIRE(i.mb);
    CHECK(i.mb->unit == MbUnit::mbps);
    CHECK(i.mb->unit_source.find("4294967295") != std::string::npos);
  }
  SECTION("l2: L2 only, 4 closids, no monitoring") {
    Info i = read_tree(tmp, "resctrl.l2");
    CHECK(cache_names(i) == std::vector<std::string>{"L2"});
    CHECK(i.cache("L2")->rules.cbm_mask == 0xffu);
    CHECK(i.cache("L2")->domains == std::vector<int>{0, 1});
    CHECK(i.usable_closids == 4);
    CHECK_FALSE(i.l3_mon);
    CHECK_FALSE(i.mb);
  }
  SECTION("l2cdp: L3 with one domain plus L2CODE/L2DATA") {
    Info i = read_tree(tmp, "resctrl.l2cdp");
    CHECK(cache_names(i) == std::vector<std::string>{"L3", "L2CODE", "L2DATA"});
    CHECK(i.l2_cdp);
    CHECK_FALSE(i.l3_cdp);
    CHECK(i.cache("L3")->rules.cbm_mask == 0xfffu);
    CHECK(i.cache("L3")->shareable_bits == 0x400u);
    CHECK(i.cache("L3")->domains == std::vector<int>{0});
    CHECK(i.cache("L2CODE")->domains == std::vector<int>{0, 1, 2, 3});
  }
  SECTION("l2l3mb: differing closids, sparse_masks files, 40 L2 domains, padded MB") {
    Info i = read_tree(tmp, "resctrl.l2l3mb");
    CHECK(cache_names(i) == std::vector<std::string>{"L3", "L2"});
    CHECK(i.cache("L3")->num_closids == 15);
    CHECK(i.cache("L2")->num_closids == 8);
    CHECK(i.mb->num_closids == 15);
    CHECK(i.usable_closids == 8);
    CHECK(i.cache("L2")->domains.size() == 40);
    CHECK(i.cache("L3")->shareable_bits == 0xc0001u);
    CHECK_FALSE(i.cache("L3")->rules.sparse_masks);
    CHECK(i.mb->thread_throttle_mode == "max");
    CHECK(i.mb->domains == std::vector<int>{0, 1});
    CHECK(i.root_schemata.resources.at("MB").at(0) == "100");
  }
}

TEST_CASE("sparse_masks=1 is read", "[rdt][info]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.l2l3mb");
  tmp.write("resctrl/info/L3/sparse_masks", "1\n");
  auto info = read_info(open_fake_root(root), {make_proc(tmp, "GenuineIntel"), "/sys/fs/resctrl"});
  REQUIRE(info.ok());
  CHECK(info.value.cache("L3")->rules.sparse_masks);
  CHECK_FALSE(info.value.cache("L2")->rules.sparse_masks);
}

TEST_CASE("vendor and MB unit", "[rdt][info]") {
  CHECK(vendor_from_cpuinfo("processor\t: 0\nvendor_id\t: GenuineIntel\n") == Vendor::intel);
  CHECK(vendor_from_cpuinfo("processor\t: 0\nvendor_id\t: AuthenticAMD\n") == Vendor::amd);
  CHECK(vendor_from_cpuinfo("processor\t: 0\nvendor_id\t: HygonGenuine\n") == Vendor::amd);
  CHECK(vendor_from_cpuinfo("processor\t: 0\n") == Vendor::unknown);

  TempDir tmp;
  SECTION("AMD → absolute units") {
    Info i = read_tree(tmp, "resctrl.full", "AuthenticAMD");
    CHECK(i.vendor == Vendor::amd);
    CHECK(i.mb->unit == MbUnit::amd_units);
  }
  SECTION("mount option mba_MBps in <proc>/mounts → MBps, even with a percent root schemata") {
    Info i = read_tree(tmp, "resctrl.full", "GenuineIntel",
                       "sysfs /sys sysfs rw 0 0\nresctrl /sys/fs/resctrl resctrl rw,relatime,mba_MBps 0 0\n");
    CHECK(i.mb->unit == MbUnit::mbps);
    CHECK(i.mb->unit_source == "mount options in mounts");
  }
  SECTION("a mounts line without mba_MBps wins over the schemata guess") {
    Info i = read_tree(tmp, "resctrl.nol3.mbps", "GenuineIntel", "resctrl /sys/fs/resctrl resctrl rw,relatime 0 0\n");
    CHECK(i.mb->unit == MbUnit::percent);
  }
}

TEST_CASE("malformed info values are errors naming the file", "[rdt][info]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.full");
  tmp.write("resctrl/info/L3/min_cbm_bits", "lots\n");
  auto info = read_info(open_fake_root(root), {make_proc(tmp, "GenuineIntel"), ""});
  REQUIRE_FALSE(info.ok());
  CHECK(info.status.describe().find("min_cbm_bits") != std::string::npos);
}
