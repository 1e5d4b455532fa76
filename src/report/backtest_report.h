#pragma once
// The HTML report of `sluice backtest`: one self-contained page that draws the
// backtest metrics with Vega-Lite (charting libraries inlined, no network, opens
// from file://). docs/backtest.md describes the charts and metrics.json.

#include <string>
#include <string_view>

namespace sluice::report {

// A self-contained HTML page (the charting library inlined) that draws the
// backtest metrics `metrics_json` (the text of metrics.json, schema in
// docs/backtest.md).
//
// The text is embedded as is, after escaping that keeps it from ending its
// <script> element early; it is parsed by the page, which shows a parse error
// in place of the charts when the text is not JSON. Strings in it are shown as
// text, never as markup.
std::string BacktestReportHtml(std::string_view metrics_json);

}  // namespace sluice::report
