// Helpers shared by the test executables: fixture location, temporary trees, small file helpers.
#pragma once

#include <string>
#include <string_view>

namespace slo::test {

// ../shared/fixtures (from SLO_FIXTURES set by meson); fails the test when missing.
std::string fixtures_dir();
// Path of one fixture below fixtures_dir() ("sysfs/nri-desktop-20cpu").
std::string fixture(std::string_view rel);

// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(std::string_view rel) const { return path_ + "/" + std::string(rel); }
  // Writes (creating parent dirs) a file below the temp dir.
  void write(std::string_view rel, std::string_view content) const;
  std::string read(std::string_view rel) const;
  void mkdirs(std::string_view rel) const;
  // Copies a fixture tree (recursively) to rel below the temp dir and returns the destination path.
  std::string copy_fixture(std::string_view fixture_rel, std::string_view rel) const;

 private:
  std::string path_;
};

// Whether the test process runs as root (kernel tests need it).
bool is_root();
// Path of a built binary (SLO_BUILD_ROOT/rel), e.g. "agent/sloagent".
std::string build_path(std::string_view rel);

}  // namespace slo::test
