#pragma once
// Spelling help for unknown names: "did you mean ...".

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// Case-insensitive Damerau-Levenshtein (optimal string alignment) distance.
int EditDistance(std::string_view a, std::string_view b);

// Known names close to `name`, closest first (at most `limit`). A name is close
// when its distance is at most max(1, len/3), or when one contains the other.
std::vector<std::string> ClosestNames(std::string_view name, const std::vector<std::string>& known,
                                      size_t limit = 3);

// "; did you mean 'a' or 'b'?" or "" when nothing is close.
std::string DidYouMean(std::string_view name, const std::vector<std::string>& known);

// "'a', 'b' and 'c'"
std::string QuotedList(const std::vector<std::string>& names);

}  // namespace sluice
