#pragma once
// Reads a checked boolean expression as a conjunction of column tests, for
// the static checks of decision policies (a rule that can never fire).

#include "expr/expr.h"
#include "expr/internal/ast.h"

namespace sluice::expr::internal {

// REQUIRES: `root` has been type-checked.
ConditionShape ReadConditionShape(const Node& root);

}  // namespace sluice::expr::internal
