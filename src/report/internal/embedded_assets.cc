#include "report/internal/embedded_assets.h"

// Each file is pulled into .rodata by the assembler (.incbin), which is much
// faster to build than a generated array literal and needs no generator. The
// paths come from src/report/CMakeLists.txt as compile definitions. ELF only.
// clang-format off
#define SLUICE_INCBIN(name, path)                                \
  __asm__(".pushsection .rodata.sluice_report_" #name ",\"a\"\n" \
          ".globl sluice_report_" #name "_begin\n"               \
          ".hidden sluice_report_" #name "_begin\n"              \
          ".globl sluice_report_" #name "_end\n"                 \
          ".hidden sluice_report_" #name "_end\n"                \
          ".balign 16\n"                                         \
          "sluice_report_" #name "_begin:\n"                     \
          ".incbin \"" path "\"\n"                               \
          "sluice_report_" #name "_end:\n"                       \
          ".popsection\n");                                      \
  extern "C" __attribute__((visibility("hidden")))              \
      const char sluice_report_##name##_begin[];                 \
  extern "C" __attribute__((visibility("hidden")))              \
      const char sluice_report_##name##_end[]
// clang-format on

SLUICE_INCBIN(vega_js, SLUICE_REPORT_VEGA_JS);
SLUICE_INCBIN(vega_lite_js, SLUICE_REPORT_VEGA_LITE_JS);
SLUICE_INCBIN(vega_embed_js, SLUICE_REPORT_VEGA_EMBED_JS);
SLUICE_INCBIN(template_html, SLUICE_REPORT_TEMPLATE_HTML);
SLUICE_INCBIN(page_js, SLUICE_REPORT_PAGE_JS);

namespace sluice::report::internal {
namespace {
std::string_view Bytes(const char* begin, const char* end) {
  return std::string_view(begin, static_cast<size_t>(end - begin));
}
}  // namespace

const EmbeddedAssets& Assets() {
  static const EmbeddedAssets assets{
      Bytes(sluice_report_vega_js_begin, sluice_report_vega_js_end),
      Bytes(sluice_report_vega_lite_js_begin, sluice_report_vega_lite_js_end),
      Bytes(sluice_report_vega_embed_js_begin, sluice_report_vega_embed_js_end),
      Bytes(sluice_report_template_html_begin, sluice_report_template_html_end),
      Bytes(sluice_report_page_js_begin, sluice_report_page_js_end),
  };
  return assets;
}

}  // namespace sluice::report::internal
