// Schemata each class would get, on every fixture tree: the default policy (BE 0-30 %, LS/LSR 0-100 %, MB 100 %)
// and edge policies (0 % / 100 % ranges, ranges under min_cbm_bits, MB rounding, CDP, sparse cache ids).
#include <catch2/catch.hpp>

#include "rdt/allocation.h"
#include "rdt/info.h"
#include "tests/rdt/rdt_fixtures.h"

using namespace slo::rdt;
using namespace slo::rdt::testing;
using slo::test::TempDir;

namespace {

Info info_of(const TempDir& tmp, const std::string& tree, const std::string& vendor = "GenuineIntel") {
  std::string root = copy_tree(tmp, tree);
  auto info = read_info(open_fake_root(root), {make_proc(tmp, vendor), "/sys/fs/resctrl"});
  if (!info.ok()) FAIL(info.status.describe());
  return info.value;
}

std::string schemata_for(const Info& info, Allocation a, std::vector<std::string>* notes = nullptr) {
  auto b = build_schemata(info, a);
  if (!b.ok()) FAIL(b.status.describe());
  if (notes) *notes = b.value.notes;
  return render_schemata(b.value.schemata);
}

}  // namespace

TEST_CASE("default policy schemata on every tree", "[rdt][allocation]") {
  struct Case {
    std::string tree, full, be;
  };
  std::vector<Case> cases{
      {"resctrl.full", "L3:0=fffff;1=fffff;2=fffff;3=fffff\nMB:0=100;1=100;2=100;3=100\n",
       "L3:0=3f;1=3f;2=3f;3=3f\nMB:0=100;1=100;2=100;3=100\n"},
      {"resctrl.nomb", "L3:0=fffff;1=fffff;2=fffff;3=fffff\n", "L3:0=3f;1=3f;2=3f;3=3f\n"},
      {"resctrl.nomb.cdp", "L3CODE:0=fffff;1=fffff;2=fffff;3=fffff\nL3DATA:0=fffff;1=fffff;2=fffff;3=fffff\n",
       "L3CODE:0=3f;1=3f;2=3f;3=3f\nL3DATA:0=3f;1=3f;2=3f;3=3f\n"},
      {"resctrl.nol3", "MB:0=100;1=100;2=100;3=100\n", "MB:0=100;1=100;2=100;3=100\n"},
      {"resctrl.nol3.mbps", "", ""},  // MBps: no MB line (percent not expressible), no cache
      {"resctrl.l2", "L2:0=ff;1=ff\n", "L2:0=7;1=7\n"},
      {"resctrl.l2cdp", "L3:0=fff\nL2CODE:0=fffff;1=fffff;2=fffff;3=fffff\nL2DATA:0=fffff;1=fffff;2=fffff;3=fffff\n",
       "L3:0=f\nL2CODE:0=3f;1=3f;2=3f;3=3f\nL2DATA:0=3f;1=3f;2=3f;3=3f\n"},
  };
  for (const auto& c : cases) {
    SECTION(c.tree) {
      TempDir tmp;
      Info info = info_of(tmp, c.tree);
      CHECK(schemata_for(info, {0, 100, 100}) == c.full);
      CHECK(schemata_for(info, {0, 30, 100}) == c.be);
    }
  }
  SECTION("resctrl.l2l3mb (40 L2 domains)") {
    TempDir tmp;
    Info info = info_of(tmp, "resctrl.l2l3mb");
    std::string l2;
    for (int i = 0; i < 40; ++i) l2 += (i ? ";" : "") + std::to_string(i) + "=1f";  // ceil(16·0.3) = 5 ways
    CHECK(schemata_for(info, {0, 30, 100}) == "L3:0=3f;1=3f\nL2:" + l2 + "\nMB:0=100;1=100\n");
  }
}

TEST_CASE("edge ranges: 0 %, 100 %, and ranges narrower than min_cbm_bits", "[rdt][allocation]") {
  TempDir tmp;
  SECTION("min_cbm_bits 1 (full)") {
    Info info = info_of(tmp, "resctrl.full");
    std::vector<std::string> notes;
    CHECK(schemata_for(info, {0, 0, 100}, &notes) == "L3:0=1;1=1;2=1;3=1\nMB:0=100;1=100;2=100;3=100\n");
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].find("widened to 1 ways") != std::string::npos);
    CHECK(schemata_for(info, {100, 100, 100}) == "L3:0=80000;1=80000;2=80000;3=80000\nMB:0=100;1=100;2=100;3=100\n");
    CHECK(schemata_for(info, {30, 100, 100}).rfind("L3:0=fffc0;", 0) == 0);
  }
  SECTION("min_cbm_bits 2 (nomb): tiny ranges widened to 2 ways") {
    Info info = info_of(tmp, "resctrl.nomb");
    CHECK(schemata_for(info, {0, 0, 100}) == "L3:0=3;1=3;2=3;3=3\n");
    CHECK(schemata_for(info, {100, 100, 100}) == "L3:0=c0000;1=c0000;2=c0000;3=c0000\n");
    CHECK(schemata_for(info, {50, 52, 100}) == "L3:0=c00;1=c00;2=c00;3=c00\n");
    CHECK(schemata_for(info, {0, 5, 100}) == "L3:0=3;1=3;2=3;3=3\n");  // 1 way requested
  }
  SECTION("CDP: code and data get the same mask") {
    Info info = info_of(tmp, "resctrl.nomb.cdp");
    CHECK(schemata_for(info, {0, 0, 100}) == "L3CODE:0=1;1=1;2=1;3=1\nL3DATA:0=1;1=1;2=1;3=1\n");
  }
  SECTION("a resource too small for min_cbm_bits is an error naming it") {
    Info info = info_of(tmp, "resctrl.l2");
    info.caches[0].rules.min_cbm_bits = 9;  // 8 ways
    auto b = build_schemata(info, {0, 100, 100});
    REQUIRE_FALSE(b.ok());
    CHECK(b.status.detail.find("L2:") == 0);
  }
}

TEST_CASE("MB values: Intel percent rounded up to the granularity, AMD units, MBps", "[rdt][allocation]") {
  MbResource intel;
  intel.bandwidth_gran = 10;
  intel.min_bandwidth = 10;
  CHECK(mb_value(intel, 100) == 100u);
  CHECK(mb_value(intel, 35) == 40u);
  CHECK(mb_value(intel, 31) == 40u);
  CHECK(mb_value(intel, 30) == 30u);
  CHECK(mb_value(intel, 0) == 10u);   // min_bandwidth
  CHECK(mb_value(intel, 5) == 10u);
  MbResource amd;
  amd.unit = MbUnit::amd_units;
  amd.bandwidth_gran = 1;
  amd.min_bandwidth = 0;
  CHECK(mb_value(amd, 100) == 2048u);  // unlimited
  CHECK(mb_value(amd, 50) == 1024u);
  CHECK(mb_value(amd, 0) == 1u);
  MbResource mbps;
  mbps.unit = MbUnit::mbps;
  CHECK_FALSE(mb_value(mbps, 50).has_value());

  TempDir tmp;
  Info info = info_of(tmp, "resctrl.nol3");
  std::vector<std::string> notes;
  CHECK(schemata_for(info, {0, 100, 35}, &notes) == "MB:0=40;1=40;2=40;3=40\n");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("rounded to 40") != std::string::npos);

  TempDir tmp2;
  Info amd_info = info_of(tmp2, "resctrl.full", "AuthenticAMD");
  CHECK(schemata_for(amd_info, {0, 100, 50}) == "L3:0=fffff;1=fffff;2=fffff;3=fffff\nMB:0=1024;1=1024;2=1024;3=1024\n");

  TempDir tmp3;
  Info mbps_info = info_of(tmp3, "resctrl.nol3.mbps");
  CHECK(schemata_for(mbps_info, {0, 100, 50}, &notes) == "");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("MBps") != std::string::npos);
}

TEST_CASE("sparse cache ids (0-7, 16-23) are kept and rendered in id order", "[rdt][allocation]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.full");
  std::string l3 = "L3:", mb = "MB:";
  // Written out of order on purpose: the kernel prints ascending, but nothing should depend on it.
  std::vector<int> ids{16, 17, 18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7};
  for (size_t i = 0; i < ids.size(); ++i) {
    l3 += (i ? ";" : "") + std::to_string(ids[i]) + "=fffff";
    mb += (i ? ";" : "") + std::to_string(ids[i]) + "=100";
  }
  tmp.write("resctrl/schemata", l3 + "\n" + mb + "\n");
  auto info = read_info(open_fake_root(root), {make_proc(tmp, "GenuineIntel"), ""});
  REQUIRE(info.ok());
  CHECK(info.value.cache("L3")->domains == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23});
  std::string want_l3 = "L3:", want_mb = "MB:";
  for (int id : info.value.cache("L3")->domains) {
    want_l3 += (want_l3.size() > 3 ? ";" : "") + std::to_string(id) + "=3f";
    want_mb += (want_mb.size() > 3 ? ";" : "") + std::to_string(id) + "=50";
  }
  CHECK(schemata_for(info.value, {0, 30, 50}) == want_l3 + "\n" + want_mb + "\n");
}
