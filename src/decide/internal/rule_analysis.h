#pragma once
// Static reasoning about rule conditions, for `sluice check`: a rule that
// can never fire, because its condition is never true or because an earlier
// rule matches every record it matches.

#include "expr/expr.h"

namespace sluice::decide::internal {

// True when no record can satisfy `c` (a constant false, or tests that
// contradict each other: "amount > 10 and amount < 5").
bool NeverTrue(const expr::ConditionShape& c);

// True when every record that satisfies `later` satisfies `earlier` too.
// Only what the shapes show is used: false means "not proved".
bool Implies(const expr::ConditionShape& later, const expr::ConditionShape& earlier);

}  // namespace sluice::decide::internal
