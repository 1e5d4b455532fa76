#pragma once
// The files that the backtest report is made of, embedded in the library at
// build time (src/report/CMakeLists.txt names them).

#include <string_view>

namespace sluice::report::internal {

struct EmbeddedAssets {
  std::string_view vega_js;        // vega/build/vega.min.js
  std::string_view vega_lite_js;   // vega-lite/build/vega-lite.min.js
  std::string_view vega_embed_js;  // vega-embed/build/vega-embed.min.js
  std::string_view template_html;  // report/backtest_report.html, with @@SLUICE_...@@ slots
  std::string_view page_js;        // report/backtest_report.js: builds the page from the metrics
};

// The bytes as they are in the files, without any escaping.
const EmbeddedAssets& Assets();

}  // namespace sluice::report::internal
