#pragma once
// Matching the rows of a decision table, and what can be proved about them.
//
// A cell is a test of one input: "-" (any value), "null", "< 600",
// "[600..700)", "'US', 'CA'", "not('US')", or an expression compared with
// the input ("> avg_amount * 3"). Tests against literals are "static": for
// each input, the literals cut the values into regions (below the smallest,
// each literal, between two literals, ..., null), and the rows a region
// matches are precomputed as a bitset. Matching a record is then, per input,
// a binary search for its region and an AND of bitsets, whatever the number
// of rows. Cells that compare with expressions are compiled to bool columns
// and ANDed in afterwards.
//
// Static cells also make the static checks exact: which rows can match the
// same record (hit policy unique) and which inputs no row matches (a table
// without a default).
//
// Thread safety: immutable after Build().

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "expr/expr.h"
#include "pipeline/spec.h"
#include "types/batch.h"

namespace sluice::decide::internal {

class TableMatcher {
 public:
  struct Input {
    std::string text;  // the input expression as written, for messages
    int column = -1;
    Type type;
  };

  // `rows[r].when[i]` is row r's test of input i. Dynamic cells are compiled
  // into `compiler`; `policy` names the policy in messages ("policy 'band'").
  // Returns nullopt after appending diagnostics.
  static std::optional<TableMatcher> Build(std::vector<Input> inputs,
                                           const std::vector<pipeline::TableRowSpec>& rows,
                                           expr::Compiler& compiler, const expr::Scope& scope,
                                           const std::string& policy,
                                           std::vector<Diagnostic>* diags);

  size_t num_rows() const { return num_rows_; }
  size_t words() const { return words_; }

  // Writes words() words per record: bit r is set when table row r matches
  // record i. `out` has batch.size() * words() words.
  // REQUIRES: the dynamic cells' program has run on `batch`.
  void MatchBatch(const Batch& batch, uint64_t* out) const;
  // The same for record `row` alone (for audit records).
  void MatchRow(const Batch& batch, size_t row, uint64_t* out) const;

  // Pairs of rows (a < b) that match some record together, each with such a
  // record ("amount = 700, country = 'US'"). Rows with dynamic cells are
  // left out (what they match is known only at run time).
  struct Overlap {
    size_t a = 0, b = 0;
    std::string example;
  };
  std::vector<Overlap> Overlaps(size_t limit) const;

  // A record with no null input that no row matches, when every cell is
  // static and there is one; nullopt otherwise (also when the search is too
  // large to finish).
  std::optional<std::string> Uncovered() const;
  bool all_static() const { return dynamic_rows_.empty(); }

 private:
  struct InputIndex;
  struct DynamicCell {
    size_t row;
    int column;  // bool
  };

  size_t num_rows_ = 0;
  size_t words_ = 0;
  std::vector<Input> inputs_;
  std::vector<InputIndex> index_;
  std::vector<DynamicCell> dynamic_;
  std::vector<size_t> dynamic_rows_;  // rows with at least one dynamic cell

 public:
  TableMatcher();
  ~TableMatcher();
  TableMatcher(TableMatcher&&) noexcept;
  TableMatcher& operator=(TableMatcher&&) noexcept;
};

}  // namespace sluice::decide::internal
