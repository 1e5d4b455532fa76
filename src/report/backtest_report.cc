#include "report/backtest_report.h"

#include <array>
#include <string>

#include "common/check.h"
#include "report/internal/embedded_assets.h"
#include "report/internal/script_text.h"

namespace sluice::report {
namespace {

// A "@@SLUICE_NAME@@" slot of the template and the text that replaces it.
struct Slot {
  std::string_view marker;
  std::string text;
  int uses = 0;
};

constexpr std::string_view kSlotOpen = "@@SLUICE_";
constexpr std::string_view kSlotClose = "@@";

}  // namespace

std::string BacktestReportHtml(std::string_view metrics_json) {
  const internal::EmbeddedAssets& assets = internal::Assets();
  std::array<Slot, 5> slots{{
      {"@@SLUICE_METRICS_JSON@@", internal::ScriptSafeJson(metrics_json)},
      {"@@SLUICE_VEGA_JS@@",
       internal::ScriptSafeJs(internal::WithoutSourceMapComment(assets.vega_js))},
      {"@@SLUICE_VEGA_LITE_JS@@",
       internal::ScriptSafeJs(internal::WithoutSourceMapComment(assets.vega_lite_js))},
      {"@@SLUICE_VEGA_EMBED_JS@@",
       internal::ScriptSafeJs(internal::WithoutSourceMapComment(assets.vega_embed_js))},
      {"@@SLUICE_PAGE_JS@@", internal::ScriptSafeJs(assets.page_js)},
  }};

  // One pass over the template, so that text put into a slot (the metrics
  // may hold anything) is never searched for slots itself.
  std::string_view tmpl = assets.template_html;
  size_t size = tmpl.size();
  for (const Slot& slot : slots) size += slot.text.size();
  std::string html;
  html.reserve(size);
  size_t pos = 0;
  while (true) {
    size_t open = tmpl.find(kSlotOpen, pos);
    if (open == std::string_view::npos) break;
    size_t close = tmpl.find(kSlotClose, open + kSlotOpen.size());
    SLUICE_CHECK(close != std::string_view::npos);
    std::string_view marker = tmpl.substr(open, close + kSlotClose.size() - open);
    Slot* slot = nullptr;
    for (Slot& s : slots) {
      if (s.marker == marker) slot = &s;
    }
    SLUICE_CHECK_EQ(slot != nullptr ? slot->marker : std::string_view("(unknown slot)"), marker);
    html.append(tmpl.substr(pos, open - pos));
    html.append(slot->text);
    ++slot->uses;
    pos = open + marker.size();
  }
  html.append(tmpl.substr(pos));
  for (const Slot& slot : slots) {
    SLUICE_CHECK_EQ(std::string(slot.marker) + " x" + std::to_string(slot.uses),
                    std::string(slot.marker) + " x1");
  }
  return html;
}

}  // namespace sluice::report
