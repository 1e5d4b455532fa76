#include "common/names.h"

#include <algorithm>
#include <cctype>

namespace sluice {
namespace {
char Lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

std::string LowerString(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}
}  // namespace

int EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      int cost = Lower(a[i - 1]) == Lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && Lower(a[i - 1]) == Lower(b[j - 2]) &&
          Lower(a[i - 2]) == Lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::vector<std::string> ClosestNames(std::string_view name, const std::vector<std::string>& known,
                                      size_t limit) {
  const std::string lname = LowerString(name);
  std::vector<std::pair<int, std::string>> scored;
  const int threshold = std::max<int>(1, static_cast<int>(name.size()) / 3);
  for (const auto& k : known) {
    if (k == name) continue;
    int dist = EditDistance(name, k);
    const std::string lk = LowerString(k);
    bool contains = lname.size() >= 3 && lk.size() >= 3 &&
                    (lk.find(lname) != std::string::npos || lname.find(lk) != std::string::npos);
    if (dist <= threshold || contains) scored.emplace_back(dist, k);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && out.size() < limit; ++i) out.push_back(scored[i].second);
  return out;
}

std::string QuotedList(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += (i + 1 == names.size()) ? " or " : ", ";
    out += "'" + names[i] + "'";
  }
  return out;
}

std::string DidYouMean(std::string_view name, const std::vector<std::string>& known) {
  auto close = ClosestNames(name, known);
  if (close.empty()) return "";
  return "; did you mean " + QuotedList(close) + "?";
}

}  // namespace sluice
