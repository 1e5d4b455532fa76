// report_render OUT_DIR METRICS.json...: writes OUT_DIR/<name>.html, the
// backtest report of each metrics file, for the browser test. Test-only.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "report/backtest_report.h"

namespace {
bool ReadFile(const std::filesystem::path& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR METRICS.json...\n", argv[0]);
    return 2;
  }
  std::filesystem::path out_dir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "report_render: cannot create %s: %s\n", out_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  for (int i = 2; i < argc; ++i) {
    std::filesystem::path in_path = argv[i];
    std::string metrics;
    if (!ReadFile(in_path, metrics)) {
      std::fprintf(stderr, "report_render: cannot read %s: %s\n", in_path.c_str(),
                   std::strerror(errno));
      return 1;
    }
    std::filesystem::path out_path = out_dir / in_path.stem();
    out_path += ".html";
    std::ofstream out(out_path, std::ios::binary);
    out << sluice::report::BacktestReportHtml(metrics);
    out.close();
    if (!out) {
      std::fprintf(stderr, "report_render: cannot write %s\n", out_path.c_str());
      return 1;
    }
    std::printf("%s\n", out_path.c_str());
  }
  return 0;
}
