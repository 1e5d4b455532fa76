#include "report/backtest_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "report/internal/embedded_assets.h"
#include "report/internal/script_text.h"

namespace sluice::report {
namespace {

using internal::Assets;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

size_t Count(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// The text of the metrics <script> element, with the page's escape undone.
std::string EmbeddedMetrics(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"sluice-metrics\">";
  size_t begin = html.find(open);
  if (begin == std::string::npos) return "(no metrics element)";
  begin += open.size();
  size_t end = Lower(html).find("</script", begin);
  std::string text = html.substr(begin, end - begin);
  for (size_t at = text.find("\\u003c"); at != std::string::npos; at = text.find("\\u003c", at)) {
    text.replace(at, 6, "<");
  }
  return text;
}

std::string ReadSample() {
  std::ifstream in(SLUICE_SOURCE_DIR "/tests/report/sample_metrics.json", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Five <script> elements: the metrics, the three libraries and the page's code.
constexpr size_t kScripts = 5;

TEST(BacktestReportHtml, InlinesEachLibraryAndThePageCode) {
  std::string html = BacktestReportHtml("{}");
  struct Part {
    const char* name;
    std::string_view text;
    std::string_view marker;  // text only this part has
  };
  const Part parts[] = {
      {"vega", Assets().vega_js, ".vega={}"},
      {"vega-lite", Assets().vega_lite_js, ".vegaLite={}"},
      {"vega-embed", Assets().vega_embed_js, ".vegaEmbed="},
      {"page", Assets().page_js, "window.sluiceReport = status"},
  };
  for (const Part& part : parts) {
    SCOPED_TRACE(part.name);
    ASSERT_GT(part.text.size(), 1000u);
    EXPECT_NE(part.text.find(part.marker), std::string_view::npos);
    std::string_view body = internal::WithoutSourceMapComment(part.text);
    EXPECT_NE(html.find(body), std::string::npos) << "not inlined whole";
  }
  EXPECT_EQ(html.find("@@SLUICE_"), std::string::npos);
  EXPECT_EQ(html.find("sourceMappingURL"), std::string::npos);
  // Every script inline, none loaded from anywhere.
  EXPECT_EQ(Count(Lower(html), "<script"), kScripts);
  EXPECT_EQ(Count(html, "<script>"), kScripts - 1);
  EXPECT_EQ(Count(html, "<script type=\"application/json\" id=\"sluice-metrics\">"), 1u);
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
}

TEST(BacktestReportHtml, EmbedsTheMetrics) {
  std::string sample = ReadSample();
  ASSERT_NE(sample.find("\"card_fraud\""), std::string::npos);
  std::string html = BacktestReportHtml(sample);
  EXPECT_EQ(EmbeddedMetrics(html), sample);
  EXPECT_EQ(Count(Lower(html), "</script"), kScripts);
}

// The libraries are inlined as they are: none may end its element or open an
// HTML comment that would hide the real end tag. A new library version that
// does must be escaped some other way; ScriptSafeJs only covers literals.
TEST(EmbeddedAssets, LibrariesCannotEndTheirScriptElement) {
  struct Library {
    const char* name;
    std::string_view text;
  };
  const Library libraries[] = {{"vega", Assets().vega_js},
                               {"vega-lite", Assets().vega_lite_js},
                               {"vega-embed", Assets().vega_embed_js},
                               {"backtest_report.js", Assets().page_js}};
  for (const Library& library : libraries) {
    SCOPED_TRACE(library.name);
    std::string lower = Lower(library.text);
    EXPECT_EQ(lower.find("</script"), std::string::npos);
    EXPECT_EQ(lower.find("<!--"), std::string::npos);
    EXPECT_EQ(lower.find("<script"), std::string::npos);
  }
}

TEST(BacktestReportHtml, HostileMetricsStayInsideTheirElement) {
  const std::string hostile[] = {
      R"({"pipeline": {"name": "</script><script>window.sluicePwned = 1</script>"}})",
      R"({"pipeline": {"name": "</SCRIPT ><img src=x onerror=alert(1)>"}})",
      R"({"reasons": [{"text": "<!--<script>"}]})",
      R"({"a": "</scr" , "b": "ipt>"})",
      "</script>",                                  // not JSON at all
      std::string("{\"x\": \"\0</script>\"}", 19),  // a NUL byte
  };
  for (const std::string& metrics : hostile) {
    SCOPED_TRACE(metrics);
    std::string html = BacktestReportHtml(metrics);
    std::string lower = Lower(html);
    EXPECT_EQ(Count(lower, "</script"), kScripts);
    EXPECT_EQ(Count(lower, "<!--"), Count(Lower(Assets().template_html), "<!--"));
    EXPECT_EQ(EmbeddedMetrics(html), metrics);
  }
}

TEST(BacktestReportHtml, SlotMarkersInTheMetricsAreLeftAlone) {
  std::string metrics = R"({"pipeline": {"name": "@@SLUICE_VEGA_JS@@ @@SLUICE_METRICS_JSON@@"}})";
  std::string html = BacktestReportHtml(metrics);
  EXPECT_EQ(EmbeddedMetrics(html), metrics);
  EXPECT_EQ(Count(html, std::string(internal::WithoutSourceMapComment(Assets().vega_js))), 1u);
}

TEST(BacktestReportHtml, EmptyMetricsStillMakeAPage) {
  std::string html = BacktestReportHtml("");
  EXPECT_EQ(EmbeddedMetrics(html), "");
  EXPECT_EQ(Count(Lower(html), "</script"), kScripts);
}

TEST(ScriptSafeJson, EscapesEveryLessThanSign) {
  struct Case {
    std::string_view in, out;
  };
  const Case cases[] = {
      {"", ""},
      {R"({"a": 1})", R"({"a": 1})"},
      {R"({"a": "</script>"})", R"({"a": "\u003c/script>"})"},
      {R"({"a": "<!--<script>"})", R"({"a": "\u003c!--\u003cscript>"})"},
      {R"({"a": "x < y > z & \"q\""})", R"({"a": "x \u003c y > z & \"q\""})"},
      {"<<", R"(\u003c\u003c)"},
  };
  for (const Case& c : cases) EXPECT_EQ(internal::ScriptSafeJson(c.in), c.out) << c.in;
}

TEST(ScriptSafeJs, EscapesScriptEndAndCommentOpen) {
  struct Case {
    std::string_view in, out;
  };
  const Case cases[] = {
      {"", ""},
      {"var a = b < c;", "var a = b < c;"},
      {"s.replace(/</g, '&lt;')", "s.replace(/</g, '&lt;')"},
      {"x = '</div>'", "x = '</div>'"},
      {"x = '</script>'", R"(x = '<\/script>')"},
      {"x = `</ScRiPt `", R"(x = `<\/ScRiPt `)"},
      {"/<\\/script/.test(s)", "/<\\/script/.test(s)"},
      {"x = '<!--'", R"(x = '<\!--')"},
      {"</script</script", R"(<\/script<\/script)"},
      {"</scrip", "</scrip"},
  };
  for (const Case& c : cases) EXPECT_EQ(internal::ScriptSafeJs(c.in), c.out) << c.in;
}

TEST(WithoutSourceMapComment, DropsOnlyATrailingMapComment) {
  struct Case {
    std::string_view in, out;
  };
  const Case cases[] = {
      {"", ""},
      {"a();", "a();"},
      {"a();\n//# sourceMappingURL=a.min.js.map\n", "a();\n"},
      {"a();\n//# sourceMappingURL=a.min.js.map", "a();\n"},
      {"//# sourceMappingURL=a.js.map\n", ""},
      {"a();\n//@ sourceMappingURL=a.js.map\n\n", "a();\n"},
      {"x = '//# sourceMappingURL=';\nb();\n", "x = '//# sourceMappingURL=';\nb();\n"},
  };
  for (const Case& c : cases) EXPECT_EQ(internal::WithoutSourceMapComment(c.in), c.out) << c.in;
}

}  // namespace
}  // namespace sluice::report
