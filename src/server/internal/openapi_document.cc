#include "server/internal/openapi_document.h"

// The file is pulled into .rodata by the assembler (.incbin); its path comes
// from src/server/CMakeLists.txt as a compile definition. ELF only.
// clang-format off
__asm__(".pushsection .rodata.sluice_openapi_json,\"a\"\n"
        ".globl sluice_openapi_json_begin\n"
        ".hidden sluice_openapi_json_begin\n"
        ".globl sluice_openapi_json_end\n"
        ".hidden sluice_openapi_json_end\n"
        ".balign 16\n"
        "sluice_openapi_json_begin:\n"
        ".incbin \"" SLUICE_OPENAPI_JSON "\"\n"
        "sluice_openapi_json_end:\n"
        ".popsection\n");
extern "C" __attribute__((visibility("hidden"))) const char sluice_openapi_json_begin[];
extern "C" __attribute__((visibility("hidden"))) const char sluice_openapi_json_end[];
// clang-format on

namespace sluice::server::internal {

std::string_view OpenApiDocument() {
  return std::string_view(sluice_openapi_json_begin,
                          static_cast<size_t>(sluice_openapi_json_end - sluice_openapi_json_begin));
}

}  // namespace sluice::server::internal
