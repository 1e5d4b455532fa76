#pragma once
// Test support: run the sluice binary and read files.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sluice::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
};

// Runs `command` with /bin/sh in `dir`, capturing stdout and stderr.
inline CommandResult RunShell(const std::string& command, const std::string& dir = ".") {
  std::string full = "cd '" + dir + "' && " + command + " 2>&1";
  CommandResult r;
  FILE* p = popen(full.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// The sluice binary under test (set by CTest; see cmake/warnings.cmake).
inline std::string SluiceBinary() {
  const char* b = std::getenv("SLUICE_BIN");
  return b ? b : SLUICE_BINARY_DIR "/src/cli/sluice";
}

// An empty folder for the running test: BUILD/cli_out/<test name>.
inline std::filesystem::path FreshTestDir() {
  const std::filesystem::path dir = std::filesystem::path(SLUICE_BINARY_DIR) / "cli_out" /
                                    ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

// True when expected files should be rewritten from actual results
// (SLUICE_UPDATE_GOLDEN=1); review the diff before committing.
inline bool UpdateGolden() {
  const char* u = std::getenv("SLUICE_UPDATE_GOLDEN");
  return u && std::string(u) == "1";
}

}  // namespace sluice::testing
