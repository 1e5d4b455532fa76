// Differential test: sluice's scoring and contributions (TreeSHAP for trees)
// against XGBoost's own predict(output_margin=True), predict() and
// predict(pred_contribs=True) on models trained by make_reference.py and
// make_gblinear_reference.py (see data/).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "model/tree_ensemble.h"

namespace sluice::model {
namespace {

struct ReferenceCase {
  const char* name;
  Objective objective;
  size_t groups;
};

struct Reference {
  size_t num_features = 0;
  size_t groups = 0;
  size_t outputs = 0;
  std::vector<float> features;   // rows x num_features
  std::vector<double> margins;   // rows x groups
  std::vector<double> preds;     // rows x outputs
  std::vector<double> contribs;  // rows x groups x (num_features + 1)
  size_t rows = 0;
};

std::string DataPath(const std::string& file) {
  return std::string(SLUICE_SOURCE_DIR) + "/tests/model/data/" + file;
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

Reference ReadReference(const std::string& name) {
  Reference ref;
  std::ifstream in(DataPath(name + ".csv"));
  EXPECT_TRUE(in) << "cannot open " << DataPath(name + ".csv");
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = SplitCsvLine(line);
  for (const std::string& h : header) {
    if (h.rfind("margin", 0) == 0) {
      ++ref.groups;
    } else if (h.rfind("pred", 0) == 0) {
      ++ref.outputs;
    } else if (h.rfind("contrib", 0) != 0) {
      ++ref.num_features;
    }
  }
  const size_t width =
      ref.num_features + ref.groups + ref.outputs + ref.groups * (ref.num_features + 1);
  EXPECT_EQ(header.size(), width);
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = SplitCsvLine(line);
    EXPECT_EQ(cells.size(), width) << line;
    if (cells.size() != width) break;
    size_t c = 0;
    for (size_t f = 0; f < ref.num_features; ++f, ++c) {
      ref.features.push_back(cells[c].empty() ? std::numeric_limits<float>::quiet_NaN()
                                              : std::strtof(cells[c].c_str(), nullptr));
    }
    for (size_t g = 0; g < ref.groups; ++g, ++c) ref.margins.push_back(std::stod(cells[c]));
    for (size_t g = 0; g < ref.outputs; ++g, ++c) ref.preds.push_back(std::stod(cells[c]));
    for (size_t k = 0; k < ref.groups * (ref.num_features + 1); ++k, ++c) {
      ref.contribs.push_back(std::stod(cells[c]));
    }
    ++ref.rows;
  }
  return ref;
}

// Absolute error below 1 in magnitude, relative above (float32 margins of a
// regression on amounts near 1000 cannot be closer than a few 1e-5).
double ScaledError(double got, double want) {
  return std::abs(got - want) / std::max(1.0, std::abs(want));
}

class XgboostReferenceTest : public testing::TestWithParam<ReferenceCase> {};

TEST_P(XgboostReferenceTest, MatchesXgboost) {
  const ReferenceCase& param = GetParam();
  auto loaded = TreeEnsemble::LoadXgboostJson(DataPath(std::string(param.name) + ".json"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const TreeEnsemble& model = **loaded;
  const Reference ref = ReadReference(param.name);
  ASSERT_GT(ref.rows, 0u);
  EXPECT_EQ(model.objective(), param.objective);
  ASSERT_EQ(model.num_groups(), param.groups);
  ASSERT_EQ(model.num_groups(), ref.groups);
  ASSERT_EQ(model.num_features(), ref.num_features);
  ASSERT_EQ(model.num_outputs(), ref.outputs);

  const size_t groups = model.num_groups();
  const size_t columns = ref.num_features + 1;
  std::vector<float> margins(ref.rows * groups);
  model.PredictMargin(ref.features.data(), ref.rows, ref.num_features, margins.data());
  std::vector<float> preds(ref.rows * model.num_outputs());
  model.Transform(margins.data(), ref.rows, preds.data());

  double max_margin = 0, max_pred = 0, max_contrib = 0, max_sum = 0;
  std::vector<float> one_margin(groups);
  std::vector<float> contribs(groups * columns);
  for (size_t r = 0; r < ref.rows; ++r) {
    const float* row = ref.features.data() + r * ref.num_features;
    model.PredictMargin(row, 1, ref.num_features, one_margin.data());
    for (size_t g = 0; g < groups; ++g) {
      EXPECT_EQ(one_margin[g], margins[r * groups + g]) << "row " << r << ": single-row path";
      const double e = ScaledError(margins[r * groups + g], ref.margins[r * groups + g]);
      max_margin = std::max(max_margin, e);
      EXPECT_LE(e, 1e-5) << "row " << r << " group " << g << ": margin " << margins[r * groups + g]
                         << ", XGBoost " << ref.margins[r * groups + g];
    }
    for (size_t o = 0; o < model.num_outputs(); ++o) {
      const double e = ScaledError(preds[r * ref.outputs + o], ref.preds[r * ref.outputs + o]);
      max_pred = std::max(max_pred, e);
      EXPECT_LE(e, 1e-6) << "row " << r << " output " << o << ": prediction "
                         << preds[r * ref.outputs + o] << ", XGBoost "
                         << ref.preds[r * ref.outputs + o];
    }
    model.Contributions(row, contribs.data());
    for (size_t g = 0; g < groups; ++g) {
      double sum = 0;
      for (size_t c = 0; c < columns; ++c) {
        const double got = contribs[g * columns + c];
        const double want = ref.contribs[(r * groups + g) * columns + c];
        sum += got;
        const double e = ScaledError(got, want);
        max_contrib = std::max(max_contrib, e);
        EXPECT_LE(e, 1e-4) << "row " << r << " group " << g << " column " << c << ": contribution "
                           << got << ", XGBoost " << want;
      }
      const double e = ScaledError(sum, margins[r * groups + g]);
      max_sum = std::max(max_sum, e);
      EXPECT_LE(e, 1e-4) << "row " << r << " group " << g << ": contributions sum to " << sum
                         << ", margin " << margins[r * groups + g];
    }
  }
  std::printf(
      "%-20s rows %zu  max error: margin %.2e  prediction %.2e  contribution %.2e  "
      "sum-vs-margin %.2e\n",
      param.name, ref.rows, max_margin, max_pred, max_contrib, max_sum);
}

INSTANTIATE_TEST_SUITE_P(
    Models, XgboostReferenceTest,
    testing::Values(ReferenceCase{"binary_shallow", Objective::kBinaryLogistic, 1},
                    ReferenceCase{"binary_deep", Objective::kBinaryLogistic, 1},
                    ReferenceCase{"regression", Objective::kSquaredError, 1},
                    ReferenceCase{"multiclass", Objective::kSoftprob, 6},
                    ReferenceCase{"missing", Objective::kBinaryLogistic, 1},
                    ReferenceCase{"categorical", Objective::kBinaryLogistic, 1},
                    ReferenceCase{"dart", Objective::kBinaryLogistic, 1},
                    ReferenceCase{"poisson", Objective::kPoisson, 1},
                    ReferenceCase{"gblinear_binary", Objective::kBinaryLogistic, 1},
                    ReferenceCase{"gblinear_regression", Objective::kSquaredError, 1},
                    ReferenceCase{"gblinear_multiclass", Objective::kSoftprob, 6},
                    ReferenceCase{"gblinear_poisson", Objective::kPoisson, 1}),
    [](const testing::TestParamInfo<ReferenceCase>& p) { return std::string(p.param.name); });

TEST(XgboostReference, FeatureNamesAndBaseMargin) {
  auto missing = TreeEnsemble::LoadXgboostJson(DataPath("missing.json"));
  ASSERT_TRUE(missing.ok()) << missing.status().message();
  EXPECT_EQ((*missing)->feature_names().front(), "Seniority");
  EXPECT_EQ((*missing)->num_trees(), 30u);
  // base_score 0.3 in probability space.
  EXPECT_NEAR((*missing)->base_margin(), std::log(0.3 / 0.7), 1e-6);
  auto poisson = TreeEnsemble::LoadXgboostJson(DataPath("poisson.json"));
  ASSERT_TRUE(poisson.ok()) << poisson.status().message();
  EXPECT_NEAR((*poisson)->base_margin(), std::log(0.5), 1e-6);
  EXPECT_EQ((*poisson)->objective_name(), "count:poisson");
}

TEST(XgboostReference, GblinearBoosters) {
  auto binary = TreeEnsemble::LoadXgboostJson(DataPath("gblinear_binary.json"));
  ASSERT_TRUE(binary.ok()) << binary.status().message();
  EXPECT_EQ((*binary)->booster(), "gblinear");
  EXPECT_EQ((*binary)->num_trees(), 0u);
  EXPECT_EQ((*binary)->feature_names().back(), "Price");
  // base_score 0.3 in probability space.
  EXPECT_NEAR((*binary)->base_margin(), std::log(0.3 / 0.7), 1e-6);
  auto regression = TreeEnsemble::LoadXgboostJson(DataPath("gblinear_regression.json"));
  ASSERT_TRUE(regression.ok()) << regression.status().message();
  EXPECT_FLOAT_EQ((*regression)->base_margin(), 1038.9183f);  // the mean amount, as trained

  // The reference rows of gblinear_binary miss a fifth of their values; each
  // missing value contributes exactly 0 (checked here, not only to 1e-4).
  const Reference ref = ReadReference("gblinear_binary");
  size_t missing = 0;
  std::vector<float> contribs(ref.num_features + 1);
  for (size_t r = 0; r < ref.rows; ++r) {
    const float* row = ref.features.data() + r * ref.num_features;
    (*binary)->Contributions(row, contribs.data());
    for (size_t f = 0; f < ref.num_features; ++f) {
      if (!std::isnan(row[f])) continue;
      ++missing;
      EXPECT_EQ(contribs[f], 0.0f) << "row " << r << " feature " << f;
      EXPECT_EQ(ref.contribs[r * (ref.num_features + 1) + f], 0.0) << "row " << r;
    }
  }
  EXPECT_GT(missing, ref.rows);  // about 0.2 * 13 per row
}

TEST(XgboostReference, StrideLargerThanFeatures) {
  for (const char* name : {"binary_shallow", "gblinear_multiclass"}) {
    auto loaded = TreeEnsemble::LoadXgboostJson(DataPath(std::string(name) + ".json"));
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    const Reference ref = ReadReference(name);
    const size_t stride = ref.num_features + 3;
    std::vector<float> wide(ref.rows * stride, -12345.0f);
    for (size_t r = 0; r < ref.rows; ++r) {
      std::copy_n(ref.features.data() + r * ref.num_features, ref.num_features,
                  wide.data() + r * stride);
    }
    const size_t groups = (*loaded)->num_groups();
    std::vector<float> a(ref.rows * groups), b(ref.rows * groups);
    (*loaded)->PredictMargin(ref.features.data(), ref.rows, ref.num_features, a.data());
    (*loaded)->PredictMargin(wide.data(), ref.rows, stride, b.data());
    EXPECT_EQ(a, b) << name;
  }
}

}  // namespace
}  // namespace sluice::model
