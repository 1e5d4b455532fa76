#include "backtest/backtest.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <unordered_map>

#include "backtest/score_metrics.h"
#include "io/record_io.h"
#include "report/backtest_report.h"
#include "runtime/labels.h"
#include "types/timestamp.h"

namespace sluice::backtest {

namespace {

namespace fs = std::filesystem;
constexpr int64_t kHourNs = 3'600'000'000'000LL;

std::string Num(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return "null";
  return fmt::format("{}", *v);
}

std::string Str(std::string_view s) {
  std::string out;
  io::AppendJsonString(s, &out);
  return out;
}

std::optional<double> Rate(uint64_t part, uint64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

// Per period: decisions per action, labelled and bad.
struct PeriodCounts {
  std::vector<uint64_t> actions;
  uint64_t labelled = 0, bad = 0;
};

struct PolicyTally {
  const decide::Policy* policy = nullptr;
  std::string role;
  uint64_t decisions = 0;
  std::vector<uint64_t> count, labelled, bad;  // per action
  std::unordered_map<const char*, std::pair<std::string_view, uint64_t>> reasons;
  std::map<int64_t, PeriodCounts> by_hour;
};

struct SwapCell {
  uint64_t count = 0, labelled = 0, bad = 0;
};

// -1: no label; 0 good; 1 bad. Sets *error for a value that is neither.
int8_t ParseOutcome(const std::optional<std::string>& v, const std::vector<std::string>& bad_values,
                    std::string* error) {
  if (!v) return -1;
  std::string s = *v;
  if (!bad_values.empty()) {
    return std::find(bad_values.begin(), bad_values.end(), s) != bad_values.end() ? 1 : 0;
  }
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "true" || s == "yes" || s == "bad") return 1;
  if (s == "false" || s == "no" || s == "good") return 0;
  double x = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec == std::errc() && p == s.data() + s.size() && std::isfinite(x)) return x != 0 ? 1 : 0;
  *error = *v;
  return -1;
}

std::string PeriodLabel(int64_t hour, std::string_view unit) {
  const int64_t ns = hour * kHourNs;
  std::string iso = FormatIso8601(ns);
  if (unit == "hour") return iso.substr(0, 13) + ":00:00Z";
  return iso.substr(0, 10);
}

// The first hour of the period that holds `hour`.
int64_t PeriodStart(int64_t hour, std::string_view unit) {
  if (unit == "hour") return hour;
  const int64_t day = hour >= 0 ? hour / 24 : -((-hour + 23) / 24);
  if (unit == "day") return day * 24;
  // Weeks start on Monday; 1970-01-01 was a Thursday.
  const int64_t monday = day - (((day + 3) % 7) + 7) % 7;
  return monday * 24;
}

}  // namespace

Status RunBacktest(const runtime::Engine& engine, const BacktestOptions& options,
                   runtime::RunSummary* summary, BacktestResult* result) {
  const auto* decision = engine.decision();
  if (decision == nullptr || !decision->has_decision()) {
    return InvalidArgument("sluice backtest needs a pipeline with a 'decision'");
  }
  const pipeline::PipelineSpec& spec = engine.spec();
  const io::SourceField* id_field = nullptr;
  int time_column = -1;
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    if (spec.fields[i].is_id) id_field = &engine.source_fields()[i];
    if (spec.fields[i].is_event_time) time_column = engine.source_fields()[i].column;
  }
  if (id_field == nullptr) {
    return InvalidArgument(
        "the pipeline's schema has no id field ('id: true') to join the labels on");
  }

  // Labels.
  const std::string key = options.label_key.empty() ? id_field->name : options.label_key;
  SLUICE_ASSIGN_OR_RETURN(runtime::LabelTable labels, runtime::LabelTable::Load(options.labels, key));
  size_t outcome_column = 0;
  if (options.label_column.empty()) {
    if (labels.header().size() != 2) {
      return InvalidArgument(fmt::format(
          "labels file {} has several columns besides '{}' ({}); name the outcome with "
          "--label-column",
          options.labels, key, fmt::join(labels.header(), ", ")));
    }
    outcome_column = labels.key_index() == 0 ? 1 : 0;
  } else {
    auto it = std::find(labels.header().begin(), labels.header().end(), options.label_column);
    if (it == labels.header().end()) {
      return InvalidArgument(fmt::format("labels file {} has no column '{}' (its columns: {})",
                                         options.labels, options.label_column,
                                         fmt::join(labels.header(), ", ")));
    }
    outcome_column = static_cast<size_t>(it - labels.header().begin());
  }
  std::vector<int8_t> outcome(labels.size());
  for (size_t r = 0; r < labels.size(); ++r) {
    std::string bad_text;
    outcome[r] = ParseOutcome(labels.value(outcome_column, r), options.bad_values, &bad_text);
    if (!bad_text.empty()) {
      return InvalidInput(fmt::format(
          "labels file {} row {}: outcome '{}' is not 1/0, true/false, yes/no or bad/good; "
          "name the bad values with --bad-value",
          options.labels, r + 2, bad_text));
    }
  }
  result->labels = labels.size();

  // What is tallied.
  std::vector<PolicyTally> tallies;
  for (const decide::Policy* p : {decision->champion(), decision->challenger()}) {
    if (p == nullptr) continue;
    PolicyTally t;
    t.policy = p;
    t.role = p == decision->champion() ? "champion" : "challenger";
    const size_t n = p->action_type().domain->size();
    t.count.assign(n, 0);
    t.labelled.assign(n, 0);
    t.bad.assign(n, 0);
    tallies.push_back(std::move(t));
  }
  struct ModelScores {
    std::string name;
    int column;
    std::vector<ScoredLabel> scores;
  };
  std::vector<ModelScores> models;
  for (const auto& m : engine.models()) {
    if (m.score_column() >= 0) models.push_back({m.name(), m.score_column(), {}});
  }
  std::map<std::pair<int32_t, int32_t>, SwapCell> swap;
  std::vector<int32_t> accept;  // champion action indexes that accept; and the challenger's
  std::vector<int32_t> accept_challenger;
  {
    std::vector<std::string> names = options.accept;
    if (names.empty()) {
      const auto& champion_spec = *spec.decision;
      if (champion_spec.default_value && champion_spec.default_value->action) {
        names.push_back(champion_spec.default_value->action->name);
      } else {
        names.push_back(std::string(decision->champion()->action_type().domain->Name(0)));
      }
    }
    for (const auto& a : names) {
      const int32_t i = decision->champion()->action_type().domain->Find(a);
      const int32_t j = decision->challenger()
                            ? decision->challenger()->action_type().domain->Find(a)
                            : -1;
      if (i < 0 && j < 0) {
        return InvalidArgument(fmt::format("--accept names '{}', which is no action of the "
                                           "champion or the challenger",
                                           a));
      }
      if (i >= 0) accept.push_back(i);
      if (j >= 0) accept_challenger.push_back(j);
    }
  }

  std::string id_scratch;
  runtime::RunOptions run = options.run;
  std::error_code ec;
  fs::create_directories(options.report_dir, ec);
  if (ec) return IoError(fmt::format("cannot create {}: {}", options.report_dir, ec.message()));
  result->decisions_path = (fs::path(options.report_dir) / "decisions.csv").string();
  if (run.output.empty() || run.output == "-") run.output = result->decisions_path;
  result->decisions_path = run.output;
  run.observe = [&](const Batch& b) {
    const Column& id = b.column(id_field->column);
    for (size_t row = 0; row < b.size(); ++row) {
      if (b.row_error(row) != 0) continue;
      const int64_t label_row = labels.Find(runtime::IdText(id, row, &id_scratch));
      const int8_t o = label_row >= 0 ? outcome[static_cast<size_t>(label_row)] : -1;
      if (o < 0) {
        ++result->unlabelled;
      } else {
        ++result->labelled;
        result->bad += o == 1;
      }
      int64_t hour = 0;
      if (time_column >= 0 && b.column(time_column).is_valid(row)) {
        const int64_t t = b.column(time_column).data<int64_t>()[row];
        hour = t >= 0 ? t / kHourNs : -((-t + kHourNs - 1) / kHourNs);
      }
      int32_t actions[2] = {-1, -1};
      for (size_t k = 0; k < tallies.size(); ++k) {
        PolicyTally& t = tallies[k];
        const Column& a = b.column(t.policy->action_column());
        if (!a.is_valid(row)) continue;
        const auto action = static_cast<size_t>(a.data<int32_t>()[row]);
        actions[k] = static_cast<int32_t>(action);
        ++t.decisions;
        ++t.count[action];
        if (o >= 0) {
          ++t.labelled[action];
          t.bad[action] += o == 1;
        }
        PeriodCounts& pc = t.by_hour[hour];
        if (pc.actions.empty()) pc.actions.assign(t.count.size(), 0);
        ++pc.actions[action];
        if (o >= 0) {
          ++pc.labelled;
          pc.bad += o == 1;
        }
        const ReasonList& l = b.reason_list(t.policy->reason_list());
        for (uint32_t r = 0; r < l.count[row]; ++r) {
          const std::string_view code = l.reasons[l.begin[row] + r].code;
          auto& slot = t.reasons[code.data()];
          slot.first = code;
          ++slot.second;
        }
      }
      if (tallies.size() == 2 && actions[0] >= 0 && actions[1] >= 0) {
        SwapCell& c = swap[{actions[0], actions[1]}];
        ++c.count;
        if (o >= 0) {
          ++c.labelled;
          c.bad += o == 1;
        }
      }
      if (o >= 0) {
        for (auto& m : models) {
          const Column& s = b.column(m.column);
          if (!s.is_valid(row)) continue;
          const double v = s.data<double>()[row];
          if (std::isfinite(v)) m.scores.push_back({v, o == 1});
        }
      }
    }
  };
  summary->command = "backtest";
  Status status = runtime::RunBatch(engine, run, summary);
  if (!status.ok()) return status;

  // Periods: hours for up to two days, days for up to half a year, else weeks.
  int64_t first_hour = INT64_MAX, last_hour = INT64_MIN;
  for (const auto& t : tallies) {
    if (t.by_hour.empty()) continue;
    first_hour = std::min(first_hour, t.by_hour.begin()->first);
    last_hour = std::max(last_hour, t.by_hour.rbegin()->first);
  }
  const std::string unit = time_column < 0                     ? "all"
                           : first_hour > last_hour             ? "day"
                           : last_hour - first_hour < 48        ? "hour"
                           : last_hour - first_hour < 24 * 183  ? "day"
                                                                : "week";

  // metrics.json
  std::string j;
  j += "{\n  \"pipeline\": {\"name\": " + Str(spec.name) + ", \"version\": " + Str(spec.version) +
       ", \"hash\": " + Str(spec.content_hash) + ", \"file\": " + Str(spec.file) + "},\n";
  j += "  \"input\": " + Str(options.run.input) + ", \"labels\": " + Str(options.labels) + ",\n";
  j += fmt::format(
      "  \"records\": {}, \"decided\": {}, \"rejected\": {}, \"labelled\": {}, \"bad\": {},\n",
      summary->records_read, summary->records_written, summary->records_rejected,
      result->labelled, result->bad);
  {
    std::vector<std::string> names;
    for (int32_t a : accept) {
      names.push_back(Str(decision->champion()->action_type().domain->Name(a)));
    }
    for (int32_t a : accept_challenger) {
      const std::string n = Str(decision->challenger()->action_type().domain->Name(a));
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
    j += fmt::format("  \"accept_actions\": [{}],\n", fmt::join(names, ", "));
  }
  j += "  \"period_unit\": " + Str(unit) + ",\n";
  j += "  \"policies\": [\n";
  for (size_t k = 0; k < tallies.size(); ++k) {
    const PolicyTally& t = tallies[k];
    const auto& domain = *t.policy->action_type().domain;
    j += "    {\"name\": " + Str(t.policy->name()) + ", \"role\": " + Str(t.role);
    std::vector<std::string> used;
    for (const auto& m : t.policy->models()) used.push_back(Str(m));
    j += fmt::format(", \"models\": [{}], \"decisions\": {},\n", fmt::join(used, ", "),
                     t.decisions);
    j += "     \"actions\": [";
    for (size_t a = 0; a < t.count.size(); ++a) {
      if (a > 0) j += ", ";
      j += fmt::format(
          "{{\"action\": {}, \"count\": {}, \"rate\": {}, \"labelled\": {}, \"good\": {}, "
          "\"bad\": {}, \"bad_rate\": {}}}",
          Str(domain.Name(static_cast<int32_t>(a))), t.count[a], Num(Rate(t.count[a], t.decisions)),
          t.labelled[a], t.labelled[a] - t.bad[a], t.bad[a], Num(Rate(t.bad[a], t.labelled[a])));
    }
    j += "],\n     \"reasons\": [";
    std::vector<std::pair<std::string_view, uint64_t>> reasons;
    for (const auto& [ptr, entry] : t.reasons) reasons.push_back(entry);
    std::sort(reasons.begin(), reasons.end(), [](const auto& x, const auto& y) {
      return x.second != y.second ? x.second > y.second : x.first < y.first;
    });
    for (size_t r = 0; r < reasons.size(); ++r) {
      if (r > 0) j += ", ";
      const int code = decision->catalog().Find(reasons[r].first);
      j += fmt::format("{{\"code\": {}, \"text\": {}, \"count\": {}, \"rate\": {}}}",
                       Str(reasons[r].first), Str(code >= 0 ? decision->catalog().text(code) : ""),
                       reasons[r].second, Num(Rate(reasons[r].second, t.decisions)));
    }
    j += "],\n     \"over_time\": [";
    std::map<int64_t, PeriodCounts> periods;
    for (const auto& [hour, pc] : t.by_hour) {
      PeriodCounts& into = periods[unit == "all" ? 0 : PeriodStart(hour, unit)];
      if (into.actions.empty()) into.actions.assign(pc.actions.size(), 0);
      for (size_t a = 0; a < pc.actions.size(); ++a) into.actions[a] += pc.actions[a];
      into.labelled += pc.labelled;
      into.bad += pc.bad;
    }
    bool first = true;
    for (const auto& [start, pc] : periods) {
      if (!first) j += ", ";
      first = false;
      std::vector<std::string> counts;
      for (size_t a = 0; a < pc.actions.size(); ++a) {
        counts.push_back(fmt::format("{}: {}", Str(domain.Name(static_cast<int32_t>(a))),
                                     pc.actions[a]));
      }
      j += fmt::format("{{\"period\": {}, \"counts\": {{{}}}, \"bad\": {}, \"labelled\": {}}}",
                       Str(unit == "all" ? std::string("all") : PeriodLabel(start, unit)),
                       fmt::join(counts, ", "), pc.bad, pc.labelled);
    }
    j += "]}";
    j += k + 1 < tallies.size() ? ",\n" : "\n";
  }
  j += "  ],\n  \"models\": [\n";
  for (size_t k = 0; k < models.size(); ++k) {
    ModelScores& m = models[k];
    const ScoreMetrics s = ComputeScoreMetrics(m.scores);
    j += fmt::format(
        "    {{\"name\": {}, \"score\": {}, \"labelled\": {}, \"bad\": {}, \"auc\": {}, "
        "\"gini\": {}, \"ks\": {}, \"ks_score\": {},\n",
        Str(m.name), Str(m.name + ".score"), s.labelled, s.bad, Num(s.auc), Num(s.gini),
        Num(s.ks), Num(s.ks_score));
    std::vector<std::string> pts;
    for (const auto& p : s.roc) pts.push_back(fmt::format("{{\"fpr\": {}, \"tpr\": {}}}", p.fpr, p.tpr));
    j += fmt::format("     \"roc\": [{}],\n", fmt::join(pts, ", "));
    pts.clear();
    for (const auto& p : s.ks_curve) {
      pts.push_back(fmt::format("{{\"score\": {}, \"good\": {}, \"bad\": {}}}", p.score, p.good, p.bad));
    }
    j += fmt::format("     \"ks_curve\": [{}],\n", fmt::join(pts, ", "));
    pts.clear();
    for (const auto& h : s.histogram) {
      pts.push_back(fmt::format("{{\"low\": {}, \"high\": {}, \"good\": {}, \"bad\": {}}}", h.low,
                                h.high, h.good, h.bad));
    }
    j += fmt::format("     \"histogram\": [{}]}}", fmt::join(pts, ", "));
    j += k + 1 < models.size() ? ",\n" : "\n";
  }
  j += "  ],\n  \"swap\": ";
  if (tallies.size() == 2) {
    const auto& champ = *tallies[0].policy->action_type().domain;
    const auto& chal = *tallies[1].policy->action_type().domain;
    std::vector<std::string> cells;
    SwapCell in, out;
    for (const auto& [pair, c] : swap) {
      cells.push_back(fmt::format(
          "{{\"champion\": {}, \"challenger\": {}, \"count\": {}, \"labelled\": {}, \"bad\": {}}}",
          Str(champ.Name(pair.first)), Str(chal.Name(pair.second)), c.count, c.labelled, c.bad));
      const bool champion_accepts =
          std::find(accept.begin(), accept.end(), pair.first) != accept.end();
      const bool challenger_accepts = std::find(accept_challenger.begin(), accept_challenger.end(),
                                                pair.second) != accept_challenger.end();
      SwapCell* into = champion_accepts && !challenger_accepts   ? &out
                       : !champion_accepts && challenger_accepts ? &in
                                                                 : nullptr;
      if (into != nullptr) {
        into->count += c.count;
        into->labelled += c.labelled;
        into->bad += c.bad;
      }
    }
    auto swap_json = [&](const SwapCell& c) {
      return fmt::format("{{\"count\": {}, \"labelled\": {}, \"bad\": {}, \"bad_rate\": {}}}",
                         c.count, c.labelled, c.bad, Num(Rate(c.bad, c.labelled)));
    };
    j += fmt::format(
        "{{\"champion\": {}, \"challenger\": {},\n    \"matrix\": [{}],\n    \"swap_in\": {},\n    "
        "\"swap_out\": {}}}\n",
        Str(tallies[0].policy->name()), Str(tallies[1].policy->name()), fmt::join(cells, ", "),
        swap_json(in), swap_json(out));
  } else {
    j += "null\n";
  }
  j += "}\n";

  result->metrics_path = (fs::path(options.report_dir) / "metrics.json").string();
  result->report_path = (fs::path(options.report_dir) / "report.html").string();
  for (const auto& [path, text] : {std::pair{result->metrics_path, j},
                                   std::pair{result->report_path, report::BacktestReportHtml(j)}}) {
    std::ofstream f(path, std::ios::binary);
    f << text;
    if (!f) return IoError("cannot write " + path);
  }
  return Status::Ok();
}

}  // namespace sluice::backtest
