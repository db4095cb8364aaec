#include "tests/common/support.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace slo::test {

std::string fixtures_dir() {
  const char* env = std::getenv("SLO_FIXTURES");
  std::string dir = env ? env : "";
  if (dir.empty() || !fs::is_directory(dir))
    throw std::runtime_error("fixtures not found: set SLO_FIXTURES (got '" + dir + "')");
  return fs::canonical(dir).string();
}

std::string fixture(std::string_view rel) { return fixtures_dir() + "/" + std::string(rel); }

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "slo-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void TempDir::mkdirs(std::string_view rel) const { fs::create_directories(sub(rel)); }

void TempDir::write(std::string_view rel, std::string_view content) const {
  fs::path p = sub(rel);
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << content;
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

std::string TempDir::read(std::string_view rel) const {
  std::ifstream f(sub(rel), std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string TempDir::copy_fixture(std::string_view fixture_rel, std::string_view rel) const {
  fs::path dst = sub(rel);
  fs::create_directories(dst);
  fs::copy(fixture(fixture_rel), dst, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  return dst.string();
}

bool is_root() { return ::geteuid() == 0; }

std::string build_path(std::string_view rel) {
  const char* env = std::getenv("SLO_BUILD_ROOT");
  return std::string(env ? env : ".") + "/" + std::string(rel);
}

}  // namespace slo::test
