#pragma once
// The expression language: parse and type-check once, then run compiled,
// vectorised code over whole batches.
//
// A Compiler turns expression texts into instructions that read and write
// batch columns (see types/batch.h). Each compiled expression gets its own
// result column; its temporaries and constants are added to the same
// BatchLayout. Run-time evaluation does no name lookup and no heap
// allocation: strings produced by expressions go to the batch's arena.
//
// Record errors (integer overflow) set Batch::SetRowError with a code from
// the ErrorTable; division by zero, domain errors and non-finite float
// results give null. See docs/expressions.md for the full semantics.
//
// Thread safety: a Program is immutable after Finish() and may be run by
// many threads at once on different batches.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/diagnostic.h"
#include "types/batch.h"
#include "types/type.h"

namespace sluice::expr {

// Maps a byte offset in an expression's text to a place in the pipeline file.
class TextLocator {
 public:
  virtual ~TextLocator() = default;
  virtual SourceLocation Locate(size_t offset) const = 0;
};

// Text that starts at (file, line, column) and has no line breaks.
class LineLocator final : public TextLocator {
 public:
  LineLocator(std::string file, int line, int column)
      : file_(std::move(file)), line_(line), column_(column) {}
  SourceLocation Locate(size_t offset) const override {
    return {file_, line_, column_ + static_cast<int>(offset)};
  }

 private:
  std::string file_;
  int line_;
  int column_;
};

// A name an expression may use: a source field, an earlier feature, later a
// model output ("fraud.score").
struct Symbol {
  Symbol() = default;
  Symbol(std::string n, Type t, int c, std::string d = {})
      : name(std::move(n)), type(std::move(t)), column(c), definition(std::move(d)) {}

  std::string name;
  Type type;
  int column = -1;  // batch column index
  // What the name stands for, down to source fields: equal definitions
  // compute equal values from equal events (CompiledExpr::definition). ""
  // is taken as the name and type alone.
  std::string definition;
  // A source field that the schema requires: never null in a record that
  // reaches the pipeline (a record without it is rejected on input).
  bool never_null = false;
};

class Scope {
 public:
  void Add(Symbol s);
  const Symbol* Find(std::string_view name) const;
  std::vector<std::string> Names() const;
  // A name that exists but may not be used here (a feature defined later),
  // with why; an expression naming it gets this note instead of "unknown".
  void AddUnavailable(std::string name, std::string why);
  const std::string* Unavailable(std::string_view name) const;

 private:
  std::vector<Symbol> symbols_;
  std::unordered_map<std::string, size_t> index_;
  std::unordered_map<std::string, std::string> unavailable_;
};

// Messages for record errors; Batch row-error codes are 1-based indexes.
class ErrorTable {
 public:
  uint32_t Add(std::string message) {
    messages_.push_back(std::move(message));
    return static_cast<uint32_t>(messages_.size());
  }
  const std::string& Get(uint32_t code) const { return messages_[code - 1]; }
  size_t size() const { return messages_.size(); }

 private:
  std::vector<std::string> messages_;
};

// One test of a column against constants, as read from a condition
// ("amount > 100", "country in ('US', 'CA')", "email is not null"). Numbers
// keep the literal's type; enums compare by value name (a string).
struct ColumnTest {
  enum class Kind : uint8_t {
    kLess,
    kLessEqual,
    kGreater,
    kGreaterEqual,
    kEqual,
    kNotEqual,
    kIn,
    kNotIn,
    kIsNull,
    kIsNotNull,
  };
  int column = -1;
  Type type;  // the column's type
  Kind kind = Kind::kEqual;
  std::vector<Value> values;  // one for comparisons, several for in
};

// What static checks can know of a boolean expression: a constant, or a
// conjunction of column tests. Parts the reading does not understand are
// left out of `tests`, and `complete` is false then.
struct ConditionShape {
  std::optional<bool> constant;
  bool complete = true;
  std::vector<ColumnTest> tests;
};

struct CompiledExpr {
  int column = -1;  // result column
  Type type;
  ConditionShape shape;  // for bool expressions
  // A fingerprint of the expression's text and, recursively, of the
  // definitions of every name it uses: a feature whose definition is
  // unchanged across pipeline versions computes the same values.
  std::string definition;
};

// Windowed aggregates: `sum(amount) over 24h by card_id`. The expression
// code resolves and type-checks them; their state lives outside the compiled
// code (features/feature_state.h), so that a Program stays immutable.
enum class AggregateKind : uint8_t {
  kCount,
  kSum,
  kAvg,
  kMin,
  kMax,
  kVariance,
  kStddev,
  kFirst,
  kLast,
  kPrevious,
  kCountDistinct,
  kApproxCountDistinct,
  kTimeSinceLast,
  kTimeSinceFirst,
  kDecayedSum,
  kDecayedAvg,
};
std::string_view AggregateName(AggregateKind kind);

// A duration as written in pipelines ("500ms", "90s", "15m", "1h", "7d",
// "2w", "1y" = 365 days; "0" is zero) in nanoseconds, or nullopt.
std::optional<int64_t> ParseDuration(std::string_view text);

// A windowed aggregate as the compiler resolved it. Its step, run over the
// rows of a batch in order, reads the value, key, filter and event-time
// columns of each row and writes `result`.
struct WindowCall {
  AggregateKind kind = AggregateKind::kCount;
  int value = -1;  // the argument's column; -1 for count() and time_since_*()
  Type value_type;
  std::vector<int> keys;  // empty: one group for all events
  std::vector<Type> key_types;
  int filter = -1;           // bool column; -1: every event
  int64_t window_ns = -1;    // -1: unbounded
  int64_t half_life_ns = 0;  // decayed_*
  bool exclude_current = false;
  int result = -1;
  Type result_type;
  uint32_t overflow_error = 0;    // ErrorTable code for an int64 sum out of range
  std::string value_text;         // the argument as written, "" if none
  bool value_never_null = false;  // the argument is a required source field
  std::string filter_text;        // the where condition as written, "" if none
  // The aggregate's definition in canonical form ("sum(amount) over 86400s
  // by card_id"); within one pipeline, equal signatures compute equal values.
  std::string signature;
  // The signature with the definition of every name it uses (Symbol::
  // definition), and the same for the key names alone: across pipeline
  // versions, equal lineages mean the same aggregate over the same keys, so
  // its state can be kept when the pipeline is reloaded.
  std::string lineage;
  std::string key_lineage;
};

// Receives the windowed aggregates of the expressions a Compiler compiles.
class WindowRegistry {
 public:
  virtual ~WindowRegistry() = default;
  // Returns the id the Program passes to StepRunner::RunStep.
  virtual int Register(WindowCall call) = 0;
};

// Runs the stateful steps of a Program (see WindowRegistry).
class StepRunner {
 public:
  virtual ~StepRunner() = default;
  virtual void RunStep(int step, Batch& batch) = 0;
};

class Instruction;  // internal

// Compiled code: a flat list of vectorised instructions.
class Program {
 public:
  Program();
  ~Program();
  Program(Program&&) noexcept;
  Program& operator=(Program&&) noexcept;

  // Evaluates every instruction, in order, over rows [0, batch.size()).
  // Windowed aggregates run through `steps`.
  // REQUIRES: steps != nullptr if has_steps().
  void Run(Batch& batch, StepRunner* steps = nullptr) const;
  size_t num_instructions() const;
  bool has_steps() const;

 private:
  friend class Compiler;
  std::vector<std::unique_ptr<Instruction>> code_;
  std::vector<int> step_;  // per instruction: its step id, or -1
};

class Compiler {
 public:
  // `layout` gains result, temporary and constant columns; `errors` gains
  // the messages of record errors the code can raise. Both must outlive the
  // Compiler; `errors` must outlive the Programs.
  Compiler(BatchLayout* layout, ErrorTable* errors);
  ~Compiler();

  // Parses, type-checks and compiles `text`. The result goes to a new
  // column called `result_name`. `context` names the expression in record
  // error messages ("feature debt_ratio"). On failure returns nullopt and
  // appends at least one diagnostic, located with `where`.
  std::optional<CompiledExpr> Compile(std::string_view text, const Scope& scope,
                                      const TextLocator& where, std::string_view result_name,
                                      std::string_view context, std::vector<Diagnostic>* diags);

  // Windowed aggregates are allowed only when a registry is set; without
  // one they are a type error that says where they may be used.
  void set_window_registry(WindowRegistry* registry, std::string why_not = "");

  // The code compiled since the last Finish().
  Program Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::expr
