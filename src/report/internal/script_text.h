#pragma once
// Text that goes inside an HTML <script> element. The HTML parser ends the
// element at the first "</script" (any case), whatever the script means, and
// after "<!--" followed by "<script" it ignores the next "</script>": neither
// may occur in the inlined text.

#include <string>
#include <string_view>

namespace sluice::report::internal {

// JSON text for <script type="application/json">: every '<' becomes "\u003c".
// '<' can only stand inside a JSON string, where the escape means the same
// character, so JSON.parse gives the same value; text that is not JSON stays
// unable to end the element too.
std::string ScriptSafeJson(std::string_view json);

// JavaScript source: "</script" (any case) becomes "<\/script" and "<!--"
// becomes "<\!--". In string, template and regular-expression literals, where
// such text can occur in real code, the first keeps its meaning; the second
// keeps it in string and template literals. The embedded libraries contain
// neither (tests/report checks), so for them this changes nothing.
std::string ScriptSafeJs(std::string_view js);

// `js` without a trailing "//# sourceMappingURL=..." comment: the map is not
// embedded, and a browser with its developer tools open would try to load it.
std::string_view WithoutSourceMapComment(std::string_view js);

}  // namespace sluice::report::internal
