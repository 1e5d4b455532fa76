#pragma once
// Lowers a checked syntax tree to vectorised instructions. Every node's value
// lives in a batch column: names are their symbol's column, literals become
// constant columns (shared by equal literals), other nodes write a temporary
// column. Temporaries are reused by later expressions of the same Compiler
// (an expression's temporaries are dead once its result is written).
//
// Guards: when a branch of if/case/coalesce (or the right side of and/or)
// contains an instruction that can raise a record error, codegen computes a
// bool guard column holding the rows where that branch decides the result,
// and passes it to the instruction, which then raises errors only there.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "expr/expr.h"
#include "expr/internal/ast.h"
#include "expr/internal/kernels.h"

namespace sluice::expr::internal {

// Columns shared across the expressions of one Compiler.
struct ColumnPool {
  std::map<std::string, int> constants;          // key: type and value
  std::map<std::string, std::vector<int>> free;  // temporaries by type name
};

class CodeGen {
 public:
  CodeGen(std::string_view text, std::string_view context, BatchLayout* layout, ErrorTable* errors,
          ColumnPool* pool, std::vector<InstructionPtr>* code, WindowRegistry* windows)
      : text_(text),
        context_(context),
        layout_(layout),
        errors_(errors),
        pool_(pool),
        code_(code),
        windows_(windows) {}
  ~CodeGen();  // returns the temporaries to the pool

  // Emits `root` and writes its value to a new column `result_name`; returns
  // that column.
  int EmitRoot(const Node& root, const std::string& result_name);
  // Names are resolved in `scope` for the lineage of windowed aggregates
  // (WindowCall::lineage); without one, a name stands for itself.
  void set_scope(const Scope* scope) { scope_ = scope; }

 private:
  struct Operand {
    int column = -1;  // -1 for a literal not yet materialised
    Type type;
    const Value* literal = nullptr;
  };

  Operand Emit(const Node& n, int guard, int dest);
  Operand EmitBinary(const Node& n, int guard, int dest);
  Operand EmitCall(const Node& n, int guard, int dest);
  Operand EmitBranches(const Node& n, int guard, int dest);
  Operand EmitCoalesce(const Node& n, int guard, int dest);
  // A windowed aggregate runs on every row, whatever branch it sits in: its
  // state must see every event. Its inputs are computed unguarded.
  Operand EmitWindow(const Node& n, int dest);
  // A bool column: a `op` b, after converting both to their comparison type.
  int EmitCompare(CmpOp op, const Node& na, const Operand& a, const Node& nb, const Operand& b,
                  int dest);

  // The value of `op` as a column of type `t` (literals converted at compile
  // time, columns by a conversion instruction).
  int As(const Operand& op, const Type& t);
  int Constant(const Value& v);
  int Temp(const Type& t);
  int Out(const Type& t, int dest) { return dest >= 0 ? dest : Temp(t); }
  int GuardColumn(int parent, int col, GuardTest test);
  ErrorSite Site(const Node& n, int guard);
  void Add(InstructionPtr i) { code_->push_back(std::move(i)); }

  std::string_view text_;
  std::string_view context_;
  BatchLayout* layout_;
  ErrorTable* errors_;
  ColumnPool* pool_;
  std::vector<InstructionPtr>* code_;
  WindowRegistry* windows_;
  const Scope* scope_ = nullptr;
  std::vector<std::pair<std::string, int>> temps_;  // taken from or added to the pool
};

// "name:definition;" for every name `n` uses, in order of appearance (see
// Symbol::definition); the part of a lineage that says what the names mean.
std::string NameLineage(const Node& n, const Scope* scope);

}  // namespace sluice::expr::internal
