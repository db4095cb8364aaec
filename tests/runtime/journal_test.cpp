// Journal: atomic checksummed file, corruption is quarantined (never a crash loop), single owner via flock.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "agent/act/journal.h"
#include "tests/common/support.h"

using namespace slo;
using agent::Journal;
using agent::JournalEntry;

namespace {
JournalEntry entry(const std::string& cg, cg::Knob k, cg::KnobValue v) { return {{cg, k, ""}, v, cg}; }
}  // namespace

TEST_CASE("journal round-trips entries through the file") {
  test::TempDir tmp;
  {
    Journal j(tmp.sub("s"));
    REQUIRE(j.load().ok);
    REQUIRE(j.add({entry("kubepods/pod1/c1", cg::Knob::cpu_quota, int64_t{-1}),
                   entry("kubepods/pod1", cg::Knob::cpuset_cpus, cg::CpuSet::range(0, 3))})
                .ok());
  }
  Journal j(tmp.sub("s"));
  auto r = j.load();
  REQUIRE(r.ok);
  CHECK(!r.quarantined);
  REQUIRE(j.entries().size() == 2);
  CHECK(cg::as_int(j.find({"kubepods/pod1/c1", cg::Knob::cpu_quota, ""})->original) == -1);
  CHECK(cg::value_to_string(j.find({"kubepods/pod1", cg::Knob::cpuset_cpus, ""})->original) == "0-3");
  // No temp file left behind.
  CHECK(!std::filesystem::exists(tmp.sub("s/journal.json.tmp")));
  // An existing entry keeps its first original.
  REQUIRE(j.add({entry("kubepods/pod1/c1", cg::Knob::cpu_quota, int64_t{5000})}).ok());
  CHECK(cg::as_int(j.find({"kubepods/pod1/c1", cg::Knob::cpu_quota, ""})->original) == -1);
  REQUIRE(j.remove({{"kubepods/pod1/c1", cg::Knob::cpu_quota, ""}}).ok());
  Journal k(tmp.sub("s"));
  REQUIRE(k.load().ok);
  CHECK(k.entries().size() == 1);
}

TEST_CASE("a corrupt journal is moved aside and the agent starts empty") {
  test::TempDir tmp;
  {
    Journal j(tmp.sub("s"));
    REQUIRE(j.add({entry("kubepods/pod1/c1", cg::Knob::cpu_quota, int64_t{-1})}).ok());
  }
  std::string path = tmp.sub("s/journal.json");
  std::string text = tmp.read("s/journal.json");
  SECTION("a changed value fails the checksum") {
    auto pos = text.find("\"-1\"");
    REQUIRE(pos != std::string::npos);
    text.replace(pos, 4, "\"-2\"");
  }
  SECTION("a torn file is not JSON") { text = text.substr(0, text.size() / 2); }
  SECTION("garbage") { text = "\x01\x02 not a journal"; }
  std::ofstream(path, std::ios::trunc) << text;
  Journal j(tmp.sub("s"));
  auto r = j.load();
  CHECK(r.ok);
  CHECK(r.quarantined);
  CHECK(j.empty());
  CHECK(!std::filesystem::exists(path));
  bool aside = false;
  for (const auto& e : std::filesystem::directory_iterator(tmp.sub("s")))
    aside = aside || e.path().filename().string().rfind("journal.json.corrupt-", 0) == 0;
  CHECK(aside);
  // And it keeps working: a new entry persists and loads.
  REQUIRE(j.add({entry("kubepods/pod2/c1", cg::Knob::cpu_quota, int64_t{-1})}).ok());
  Journal k(tmp.sub("s"));
  CHECK(!k.load().quarantined);
  CHECK(k.entries().size() == 1);
}

TEST_CASE("a journal entry with an unsafe cgroup path is corruption, not a path to write") {
  test::TempDir tmp;
  std::map<cg::KnobRef, JournalEntry> m;
  m[{"../etc", cg::Knob::cpu_quota, ""}] = entry("../etc", cg::Knob::cpu_quota, int64_t{1});
  std::string err;
  CHECK(!Journal::parse(Journal::serialize(m), err));
  CHECK(err.find("bad entry") != std::string::npos);
}

TEST_CASE("only one process holds a state dir") {
  test::TempDir tmp;
  Journal a(tmp.sub("s")), b(tmp.sub("s"));
  std::string err;
  REQUIRE(a.lock(err));
  CHECK(!b.lock(err));
  CHECK(err.find("in use") != std::string::npos);
}

TEST_CASE("the streamed journal checksum matches the entries' JSON dump (journals of earlier versions stay valid)") {
  std::map<cg::KnobRef, JournalEntry> m;
  auto add = [&](JournalEntry e) { m.emplace(e.ref, e); };
  add(entry("kubepods/burstable/pod1/c1", cg::Knob::cpu_quota, int64_t{-1}));
  add({{"kubepods/pod\"q\\uo\xc3\xa9te", cg::Knob::io_read_bps, "8:0"}, int64_t{1048576}, "weird\tfile\n"});
  add(entry("kubepods/pod1", cg::Knob::cpuset_cpus, cg::CpuSet::range(0, 3)));
  std::string text = Journal::serialize(m);
  auto doc = nlohmann::json::parse(text);
  // What the tree-based writer produced for the same entries: an array of objects with these five keys.
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& [ref, e] : m)
    arr.push_back({{"cgroup", ref.cgroup},
                   {"knob", std::string(cg::to_string(ref.knob))},
                   {"device", ref.device},
                   {"original", cg::value_to_string(e.original)},
                   {"file", e.file}});
  CHECK(doc["entries"] == arr);
  CHECK(doc["entries"].dump() == arr.dump());
  std::string err;
  auto back = Journal::parse(text, err);
  REQUIRE(back);
  CHECK(back->size() == 3);
  CHECK(back->at({"kubepods/pod\"q\\uo\xc3\xa9te", cg::Knob::io_read_bps, "8:0"}).file == "weird\tfile\n");
  // Empty journal.
  REQUIRE(Journal::parse(Journal::serialize({}), err));
  // A changed entry no longer verifies.
  auto pos = text.find("1048576");
  REQUIRE(pos != std::string::npos);
  text[pos] = '2';
  CHECK(!Journal::parse(text, err));
  CHECK(err == "checksum mismatch");
}
