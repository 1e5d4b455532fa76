#pragma once
// Reads a scorecard from JSON (the layout is in model/scorecard.h and
// docs/models.md) into a definition, checking the JSON's shape and types;
// Scorecard::Validate checks the bins themselves.

#include <string>
#include <string_view>

#include "model/scorecard.h"
#include "sluice/status.h"

namespace sluice::model::internal {

// `name` prefixes every error message (usually the file's path), followed by
// the JSON path at fault: "card.json: characteristics[0].bins[2].points:
// expected a number, found a string".
Result<ScorecardDefinition> ParseScorecardJson(std::string_view json, const std::string& name);

// Where issue `issue` of Validate sits in the JSON: "characteristics[1]",
// "characteristics[1].bins[0]", or "" for the whole scorecard.
std::string ScorecardJsonPath(const ScorecardIssue& issue);

}  // namespace sluice::model::internal
