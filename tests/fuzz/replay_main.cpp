// Replay driver for the fuzz targets in builds without libFuzzer (g++, the sanitizer CI pass): runs every seed, then
// a fixed number of deterministic mutations of each (bit flips, interesting bytes, long digit runs, deletions,
// duplications, splices with other seeds, truncations). Deterministic so a CI failure reproduces; the input that
// failed is written to $TMPDIR/slo-fuzz-crash-<target> from the signal handler.
//
//   <target>_replay [--iterations N] [--match NAME[,NAME…]] PATH…   (files, or directories searched recursively)
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_target.h"

namespace {

constexpr size_t kMaxSeed = 256 * 1024;

struct Current {
  const char* seed = "";
  unsigned long mutation = 0;
  const uint8_t* data = nullptr;
  size_t size = 0;
  char crash_path[512] = {};
};
Current g_current;  // read by the crash handler only

void write_str(int fd, const char* s) { (void)!write(fd, s, std::strlen(s)); }

void on_crash(int sig) {
  // Async-signal-safe only: say which input, save it, then die with the same signal.
  write_str(2, "\nfuzz replay: crash on seed ");
  write_str(2, g_current.seed);
  char num[32];
  int n = std::snprintf(num, sizeof num, " mutation %lu", g_current.mutation);
  (void)!write(2, num, static_cast<size_t>(n));
  write_str(2, "; input saved to ");
  write_str(2, g_current.crash_path);
  write_str(2, "\n");
  int fd = open(g_current.crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) {
    (void)!write(fd, g_current.data, g_current.size);
    close(fd);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

struct Rng {  // xorshift64*: the same sequence on every machine
  uint64_t s;
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
};

std::vector<uint8_t> mutate(const std::vector<uint8_t>& in, const std::vector<std::vector<uint8_t>>& all, Rng& r) {
  static const uint8_t interesting[] = {0, 0xff, 0x7f, 0x80, '-', ',', '\n', ' ', ':', '9', '"', '{', '}', '[', ']'};
  static const char* tokens[] = {"99999999999999999999999", "-1", "max", "0x", "1e308", "\xef\xbb\xbf", "\n\n", "Ki",
                                 "-", "null", "1.5", "---\n", ": ", "&a", "*a", "!!binary"};
  std::vector<uint8_t> out = in;
  int steps = 1 + static_cast<int>(r.below(4));
  for (int i = 0; i < steps; ++i) {
    size_t pos = r.below(out.size() + 1);
    switch (r.below(8)) {
      case 0:
        if (!out.empty()) out[r.below(out.size())] ^= static_cast<uint8_t>(1u << r.below(8));
        break;
      case 1:
        if (!out.empty()) out[r.below(out.size())] = interesting[r.below(sizeof interesting)];
        break;
      case 2: {
        const char* t = tokens[r.below(std::size(tokens))];
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(pos), t, t + std::strlen(t));
        break;
      }
      case 3:
        if (pos < out.size()) out.erase(out.begin() + static_cast<std::ptrdiff_t>(pos),
                                        out.begin() + static_cast<std::ptrdiff_t>(std::min(out.size(), pos + 1 + r.below(16))));
        break;
      case 4:
        if (pos < out.size()) {
          size_t len = std::min(out.size() - pos, 1 + r.below(32));
          std::vector<uint8_t> chunk(out.begin() + static_cast<std::ptrdiff_t>(pos),
                                     out.begin() + static_cast<std::ptrdiff_t>(pos + len));
          out.insert(out.begin() + static_cast<std::ptrdiff_t>(pos), chunk.begin(), chunk.end());
        }
        break;
      case 5: {
        const auto& other = all[r.below(all.size())];
        if (!other.empty()) {
          size_t from = r.below(other.size());
          size_t len = std::min(other.size() - from, 1 + r.below(64));
          out.insert(out.begin() + static_cast<std::ptrdiff_t>(pos), other.begin() + static_cast<std::ptrdiff_t>(from),
                     other.begin() + static_cast<std::ptrdiff_t>(from + len));
        }
        break;
      }
      case 6:
        out.resize(pos);
        break;
      default:
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<uint8_t>(r.next()));
    }
    if (out.size() > kMaxSeed) out.resize(kMaxSeed);
  }
  return out;
}

bool name_matches(const std::filesystem::path& p, const std::vector<std::string>& match) {
  if (match.empty()) return true;
  auto name = p.filename().string();
  for (const auto& m : match)
    if (name == m || (m.size() > 1 && m.back() == '*' && name.compare(0, m.size() - 1, m, 0, m.size() - 1) == 0))
      return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned long iterations = 200;
  std::vector<std::string> match, roots;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--iterations" && i + 1 < argc) {
      iterations = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--match" && i + 1 < argc) {
      std::stringstream ss(argv[++i]);
      for (std::string m; std::getline(ss, m, ',');) match.push_back(m);
    } else {
      roots.push_back(a);
    }
  }
  std::vector<std::string> names;
  std::vector<std::vector<uint8_t>> seeds;
  for (const auto& root : roots) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(root, ec)) {
      for (auto it = std::filesystem::recursive_directory_iterator(root, ec); !ec && it != decltype(it)(); it.increment(ec))
        if (it->is_regular_file(ec) && !it->is_symlink(ec) && name_matches(it->path(), match)) files.push_back(it->path());
    } else if (std::filesystem::is_regular_file(root, ec)) {
      files.push_back(root);
    } else {
      std::fprintf(stderr, "fuzz replay: seed path %s not found\n", root.c_str());
      return 1;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (std::filesystem::file_size(f, ec) > kMaxSeed || ec) continue;
      std::ifstream in(f, std::ios::binary);
      seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      names.push_back(f.string());
    }
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "fuzz replay: no seeds matched (paths and --match given)\n");
    return 1;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string target = std::filesystem::path(argv[0]).filename().string();
  std::snprintf(g_current.crash_path, sizeof g_current.crash_path, "%s/slo-fuzz-crash-%s", tmp ? tmp : "/tmp",
                target.c_str());
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) signal(sig, on_crash);

  auto t0 = std::chrono::steady_clock::now();
  unsigned long inputs = 0;
  Rng rng{0x5105a6e17ULL};
  for (size_t i = 0; i < seeds.size(); ++i) {
    g_current.seed = names[i].c_str();
    g_current.mutation = 0;
    g_current.data = seeds[i].data();
    g_current.size = seeds[i].size();
    LLVMFuzzerTestOneInput(seeds[i].data(), seeds[i].size());
    ++inputs;
    for (unsigned long m = 1; m <= iterations; ++m) {
      auto in = mutate(seeds[i], seeds, rng);
      g_current.mutation = m;
      g_current.data = in.data();
      g_current.size = in.size();
      LLVMFuzzerTestOneInput(in.data(), in.size());
      ++inputs;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("fuzz replay %s: %lu inputs from %zu seeds in %.2f s, no crash, no property violated\n", target.c_str(),
              inputs, seeds.size(), secs);
  return 0;
}
