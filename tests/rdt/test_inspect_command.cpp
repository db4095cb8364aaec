// `sloagent inspect rdt` through the real binary: JSON on stdout and exit 0 with and without resctrl.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/rdt/rdt_fixtures.h"

using namespace slo::rdt::testing;
using slo::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string run(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

}  // namespace

TEST_CASE("sloagent inspect rdt: JSON and exit 0 with and without resctrl", "[rdt][controller][command]") {
  std::string bin = slo::test::build_path("agent/sloagent");
  REQUIRE(fs::exists(bin));
  TempDir tmp;
  int st = 0;
  // This machine has no resctrl: the default root gives supported=false.
  auto out = run(bin + " inspect rdt --resctrl-root " + tmp.sub("none") + " 2>/dev/null", &st);
  CHECK(WEXITSTATUS(st) == 0);
  auto j = nlohmann::json::parse(out);
  CHECK(j["supported"] == false);
  CHECK(j["reason"].get<std::string>().find("resctrl not mounted") == 0);

  std::string root = copy_tree(tmp, "resctrl.nomb.cdp");
  std::string proc = make_proc(tmp, "GenuineIntel");
  out = run(bin + " inspect rdt --resctrl-root " + root + " --proc-root " + proc, &st);
  CHECK(WEXITSTATUS(st) == 0);
  j = nlohmann::json::parse(out);
  CHECK(j["supported"] == true);
  CHECK(j["capabilities"]["cdp"]["l3"] == true);
  CHECK(j["groups"][2]["schemata"] ==
        nlohmann::json::array({"L3CODE:0=3f;1=3f;2=3f;3=3f", "L3DATA:0=3f;1=3f;2=3f;3=3f"}));

  out = run(bin + " inspect rdt --bogus 2>/dev/null", &st);
  CHECK(WEXITSTATUS(st) == 2);
}
