#pragma once
// Test helper: a vector as a JSON array, floats to 9 significant digits
// (enough to round-trip a float32), for the model files the tests write.

#include <sstream>
#include <string>
#include <vector>

namespace sluice::model::test_util {

template <typename T>
std::string JsonList(const std::vector<T>& values) {
  std::ostringstream out;
  out.precision(9);
  out << '[';
  for (size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  out << ']';
  return out.str();
}

}  // namespace sluice::model::test_util
