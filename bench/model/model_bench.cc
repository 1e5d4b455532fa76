// Model scoring benchmark: sluice's TreeEnsemble against libxgboost's C API
// on the same XGBoost JSON model and the same rows, one thread, in one
// process.
//
//   model_bench --model bench/data/model_small.json --rows bench/data/model_rows.f32
//
// Three measures, each side in turn within every repetition (so that a noisy
// minute on a shared machine hits both), medians reported:
//   batch    all rows in one call. sluice: PredictMargin + Transform.
//            XGBoost: XGBoosterPredictFromDMatrix on a fresh DMatrix built
//            before the clock starts (a DMatrix already predicted on would
//            return XGBoost's cached predictions), and XGBoosterPredictFromDense (in-place) on
//            the same buffer; both are reported.
//   single   one call per row, each call timed: p50 / p99 / p99.9. sluice:
//            PredictMargin + Transform of one row. XGBoost: three ways of
//            scoring one row (in-place dense with and without a reusable
//            proxy DMatrix, and a one-row DMatrix per call); all are
//            reported and the fastest is the one compared against.
//   shap     per-row TreeSHAP. sluice: Contributions row by row. XGBoost:
//            XGBoosterPredictFromDMatrix type 2 (pred_contribs) on a
//            DMatrix of those rows built before the clock starts.
// Then the answers are checked against each other: the largest absolute
// difference of probabilities, margins and contributions.
//
// Writes one JSON object on stdout; progress goes to stderr. XGBoost runs
// with nthread=1, and the program re-executes itself with OMP_NUM_THREADS=1
// when that is not already set, since libgomp reads it when it is loaded.

#include <sys/resource.h>
#include <unistd.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/tree_ensemble.h"

namespace {

using Clock = std::chrono::steady_clock;
using sluice::model::TreeEnsemble;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "model_bench: %s\n", what.c_str());
  std::exit(2);
}

// Aborts with XGBoost's own message when a C API call fails.
void XgbCheck(int rc, const char* call) {
  if (rc != 0) Fail(std::string(call) + " failed: " + XGBGetLastError());
}
#define XGB_CHECK(call) XgbCheck((call), #call)

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Resident set size now, in bytes (from /proc/self/statm).
double CurrentRssBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0;
  long resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

int ThreadCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
    ++n;
  return n;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// One timed region: wall and CPU seconds of the whole process.
struct Timing {
  double wall = 0;
  double cpu = 0;
};

Timing TimeIt(const std::function<void()>& work) {
  const double cpu0 = CpuSeconds();
  const auto t0 = Clock::now();
  work();
  const auto t1 = Clock::now();
  return {Seconds(t1 - t0), CpuSeconds() - cpu0};
}

// Every repetition's timings of one measure of one side, and their medians.
struct Series {
  std::vector<double> wall;
  std::vector<double> cpu;
  void Add(Timing t) {
    wall.push_back(t.wall);
    cpu.push_back(t.cpu);
  }
};

// Latencies of one side's single-record calls: per-repetition percentiles.
struct LatencySeries {
  std::vector<double> p50, p99, p999, mean, cpu_per_call;
  void Add(std::vector<double> ns, double cpu_seconds) {
    std::sort(ns.begin(), ns.end());
    p50.push_back(Percentile(ns, 50));
    p99.push_back(Percentile(ns, 99));
    p999.push_back(Percentile(ns, 99.9));
    double sum = 0;
    for (double v : ns) sum += v;
    mean.push_back(sum / static_cast<double>(ns.size()));
    cpu_per_call.push_back(cpu_seconds * 1e9 / static_cast<double>(ns.size()));
  }
};

std::string JsonArray(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.9g", i ? ", " : "", v[i]);
    s += buf;
  }
  return s + "]";
}

std::string JsonSeries(const Series& s) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "{\"wall_s_median\": %.9g, \"cpu_s_median\": %.9g, ",
                Median(s.wall), Median(s.cpu));
  return buf + std::string("\"wall_s\": ") + JsonArray(s.wall) +
         ", \"cpu_s\": " + JsonArray(s.cpu) + "}";
}

std::string JsonLatency(const LatencySeries& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"p50_ns\": %.6g, \"p99_ns\": %.6g, \"p999_ns\": %.6g, \"mean_ns\": %.6g, "
                "\"cpu_ns_per_call\": %.6g, ",
                Median(s.p50), Median(s.p99), Median(s.p999), Median(s.mean),
                Median(s.cpu_per_call));
  return buf + std::string("\"p50_ns_reps\": ") + JsonArray(s.p50) +
         ", \"p99_ns_reps\": " + JsonArray(s.p99) + ", \"p999_ns_reps\": " + JsonArray(s.p999) +
         "}";
}

// The __array_interface__ JSON that XGBoost's in-place and dense calls take.
std::string ArrayInterface(const float* data, size_t rows, size_t cols) {
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "{\"data\": [%zu, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", "
                "\"version\": 3}",
                reinterpret_cast<size_t>(data), rows, cols);
  return buf;
}

// XGBoost prediction configs. "missing" only matters to the in-place calls.
constexpr const char* kPredictConfig =
    "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
    "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}";
constexpr const char* kMarginConfig =
    "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
    "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}";
constexpr const char* kContribConfig =
    "{\"type\": 2, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
    "\"strict_shape\": false}";

struct Options {
  std::string model;
  std::string rows;
  size_t max_rows = 0;  // 0: all rows in the file
  int reps = 5;
  size_t single_calls = 20000;
  size_t shap_rows = 2000;
  int shap_reps = 3;
};

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Fail(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--model")
      o.model = next();
    else if (arg == "--rows")
      o.rows = next();
    else if (arg == "--max-rows")
      o.max_rows = std::stoul(next());
    else if (arg == "--reps")
      o.reps = std::stoi(next());
    else if (arg == "--single-calls")
      o.single_calls = std::stoul(next());
    else if (arg == "--shap-rows")
      o.shap_rows = std::stoul(next());
    else if (arg == "--shap-reps")
      o.shap_reps = std::stoi(next());
    else
      Fail("unknown argument " + std::string(arg) +
           "; usage: model_bench --model MODEL.json --rows ROWS.f32 [--max-rows N] [--reps N] "
           "[--single-calls N] [--shap-rows N] [--shap-reps N]");
  }
  if (o.model.empty() || o.rows.empty()) Fail("--model and --rows are required");
  if (o.reps < 1 || o.shap_reps < 1 || o.single_calls < 1 || o.shap_rows < 1)
    Fail("--reps, --shap-reps, --single-calls and --shap-rows must be at least 1");
  return o;
}

std::vector<float> ReadRows(const std::string& path, size_t cols, size_t max_rows) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) Fail(path + ": cannot open the rows file (run bench/model/train_models.py)");
  const auto bytes = static_cast<size_t>(in.tellg());
  if (bytes % (cols * sizeof(float)) != 0)
    Fail(path + ": " + std::to_string(bytes) + " bytes is not a whole number of rows of " +
         std::to_string(cols) + " float32 features");
  size_t rows = bytes / (cols * sizeof(float));
  if (max_rows != 0) rows = std::min(rows, max_rows);
  std::vector<float> x(rows * cols);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(x.data()),
          static_cast<std::streamsize>(x.size() * sizeof(float)));
  if (!in) Fail(path + ": read failed");
  return x;
}

float MaxAbsDiff(const float* a, const float* b, size_t n) {
  float worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= worst)) worst = d;  // NaN counts as the worst
  }
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  // libgomp sizes its thread pool from OMP_NUM_THREADS when it is loaded,
  // before main; set it and start again if the caller did not.
  const char* omp = std::getenv("OMP_NUM_THREADS");
  if (omp == nullptr || std::string_view(omp) != "1") {
    setenv("OMP_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
    Fail("cannot re-execute with OMP_NUM_THREADS=1");
  }
  const Options opt = ParseOptions(argc, argv);
  const double rss_start = CurrentRssBytes();

  // sluice.
  const double load_cpu0 = CpuSeconds();
  auto loaded = TreeEnsemble::LoadXgboostJson(opt.model);
  if (!loaded.ok()) Fail(loaded.status().message());
  const double sluice_load_s = CpuSeconds() - load_cpu0;
  const std::shared_ptr<const TreeEnsemble> model = *loaded;
  const size_t cols = model->num_features();
  if (model->num_groups() != 1) Fail("the benchmark expects a binary or regression model");
  const double rss_after_sluice = CurrentRssBytes();

  // XGBoost.
  BoosterHandle booster = nullptr;
  XGB_CHECK(XGBoosterCreate(nullptr, 0, &booster));
  XGB_CHECK(XGBoosterSetParam(booster, "nthread", "1"));
  const double xgb_load_cpu0 = CpuSeconds();
  XGB_CHECK(XGBoosterLoadModel(booster, opt.model.c_str()));
  const double xgboost_load_s = CpuSeconds() - xgb_load_cpu0;
  XGB_CHECK(XGBoosterSetParam(booster, "nthread", "1"));
  bst_ulong xgb_features = 0;
  XGB_CHECK(XGBoosterGetNumFeature(booster, &xgb_features));
  if (xgb_features != cols)
    Fail("XGBoost reads " + std::to_string(xgb_features) + " features, sluice " +
         std::to_string(cols));
  const double rss_after_xgb = CurrentRssBytes();

  const std::vector<float> x = ReadRows(opt.rows, cols, opt.max_rows);
  const size_t rows = x.size() / cols;
  const size_t single_calls = std::min(opt.single_calls, rows);
  const size_t shap_rows = std::min(opt.shap_rows, rows);
  const float kNaN = std::numeric_limits<float>::quiet_NaN();
  std::fprintf(stderr, "%s: %zu trees, %zu features; %zu rows\n", opt.model.c_str(),
               model->num_trees(), cols, rows);

  // ---- batch ----
  // XGBoost keeps the last predictions of each DMatrix and returns them
  // without scoring when asked again (its prediction cache): every timed
  // DMatrix call gets a DMatrix of its own, built and freed outside the clock.
  auto make_dmatrix = [&](size_t n) {
    DMatrixHandle m = nullptr;
    XGB_CHECK(XGDMatrixCreateFromMat(x.data(), n, cols, kNaN, &m));
    return m;
  };
  const std::string all_rows_interface = ArrayInterface(x.data(), rows, cols);
  std::vector<float> sluice_margin(rows);
  std::vector<float> sluice_prob(rows);
  std::vector<float> xgb_prob(rows);
  std::vector<float> xgb_dense_prob(rows);
  Series batch_sluice, batch_xgb_dmatrix, batch_xgb_dense;
  for (int rep = 0; rep < opt.reps + 1; ++rep) {  // rep 0 warms caches and is not kept
    const Timing s = TimeIt([&] {
      model->PredictMargin(x.data(), rows, cols, sluice_margin.data());
      model->Transform(sluice_margin.data(), rows, sluice_prob.data());
    });
    DMatrixHandle all_rows = make_dmatrix(rows);
    const Timing d = TimeIt([&] {
      const bst_ulong* shape = nullptr;
      bst_ulong dim = 0;
      const float* out = nullptr;
      XGB_CHECK(XGBoosterPredictFromDMatrix(booster, all_rows, kPredictConfig, &shape, &dim, &out));
      std::copy(out, out + rows, xgb_prob.begin());
    });
    XGB_CHECK(XGDMatrixFree(all_rows));
    const Timing i = TimeIt([&] {
      const bst_ulong* shape = nullptr;
      bst_ulong dim = 0;
      const float* out = nullptr;
      XGB_CHECK(XGBoosterPredictFromDense(booster, all_rows_interface.c_str(), kPredictConfig,
                                          nullptr, &shape, &dim, &out));
      std::copy(out, out + rows, xgb_dense_prob.begin());
    });
    if (rep == 0) continue;
    batch_sluice.Add(s);
    batch_xgb_dmatrix.Add(d);
    batch_xgb_dense.Add(i);
    std::fprintf(stderr, "  batch rep %d: sluice %.4f s, xgboost dmatrix %.4f s, dense %.4f s\n",
                 rep, s.wall, d.wall, i.wall);
  }
  std::vector<float> xgb_margin(rows);
  {
    DMatrixHandle all_rows = make_dmatrix(rows);
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* out = nullptr;
    XGB_CHECK(XGBoosterPredictFromDMatrix(booster, all_rows, kMarginConfig, &shape, &dim, &out));
    std::copy(out, out + rows, xgb_margin.begin());
    XGB_CHECK(XGDMatrixFree(all_rows));
  }

  // ---- single record ----
  // XGBoost's one-row calls read from one fixed buffer whose address is baked
  // into the array interface once; copying the row into it is timed.
  alignas(64) float one_row[256];
  if (cols > 256) Fail("more than 256 features");
  const std::string one_row_interface = ArrayInterface(one_row, 1, cols);
  DMatrixHandle proxy = nullptr;
  XGB_CHECK(XGProxyDMatrixCreate(&proxy));

  std::vector<float> sluice_single(single_calls);
  std::vector<float> xgb_single(single_calls);
  std::vector<double> ns(single_calls);
  struct XgbWay {
    const char* name;
    std::function<float(const float*)> score;
    LatencySeries latency;
  };
  std::vector<XgbWay> ways;
  ways.push_back({"XGBoosterPredictFromDense, 1 row, no proxy DMatrix",
                  [&](const float* row) {
                    std::memcpy(one_row, row, cols * sizeof(float));
                    const bst_ulong* shape = nullptr;
                    bst_ulong dim = 0;
                    const float* out = nullptr;
                    XGB_CHECK(XGBoosterPredictFromDense(booster, one_row_interface.c_str(),
                                                        kPredictConfig, nullptr, &shape, &dim,
                                                        &out));
                    return out[0];
                  },
                  {}});
  ways.push_back({"XGBoosterPredictFromDense, 1 row, reused proxy DMatrix",
                  [&](const float* row) {
                    std::memcpy(one_row, row, cols * sizeof(float));
                    const bst_ulong* shape = nullptr;
                    bst_ulong dim = 0;
                    const float* out = nullptr;
                    XGB_CHECK(XGBoosterPredictFromDense(booster, one_row_interface.c_str(),
                                                        kPredictConfig, proxy, &shape, &dim, &out));
                    return out[0];
                  },
                  {}});
  ways.push_back(
      {"XGDMatrixCreateFromMat + XGBoosterPredictFromDMatrix + XGDMatrixFree",
       [&](const float* row) {
         DMatrixHandle m = nullptr;
         XGB_CHECK(XGDMatrixCreateFromMat(row, 1, cols, kNaN, &m));
         const bst_ulong* shape = nullptr;
         bst_ulong dim = 0;
         const float* out = nullptr;
         XGB_CHECK(XGBoosterPredictFromDMatrix(booster, m, kPredictConfig, &shape, &dim, &out));
         const float p = out[0];
         XGB_CHECK(XGDMatrixFree(m));
         return p;
       },
       {}});

  LatencySeries single_sluice;
  float single_check_xgb = 0;  // worst |single-row XGBoost - batch XGBoost| over the ways
  for (int rep = 0; rep < opt.reps + 1; ++rep) {
    double cpu0 = CpuSeconds();
    for (size_t r = 0; r < single_calls; ++r) {
      const float* row = x.data() + r * cols;
      const auto t0 = Clock::now();
      float margin;
      model->PredictMargin(row, 1, cols, &margin);
      model->Transform(&margin, 1, &sluice_single[r]);
      const auto t1 = Clock::now();
      ns[r] = static_cast<double>(std::chrono::nanoseconds(t1 - t0).count());
    }
    if (rep > 0) single_sluice.Add(ns, CpuSeconds() - cpu0);
    for (XgbWay& way : ways) {
      cpu0 = CpuSeconds();
      for (size_t r = 0; r < single_calls; ++r) {
        const float* row = x.data() + r * cols;
        const auto t0 = Clock::now();
        xgb_single[r] = way.score(row);
        const auto t1 = Clock::now();
        ns[r] = static_cast<double>(std::chrono::nanoseconds(t1 - t0).count());
      }
      if (rep > 0) way.latency.Add(ns, CpuSeconds() - cpu0);
      single_check_xgb =
          std::max(single_check_xgb, MaxAbsDiff(xgb_single.data(), xgb_prob.data(), single_calls));
    }
    if (rep > 0)
      std::fprintf(stderr,
                   "  single rep %d: sluice p50 %.0f ns; xgboost p50 %.0f / %.0f / %.0f ns\n", rep,
                   single_sluice.p50.back(), ways[0].latency.p50.back(), ways[1].latency.p50.back(),
                   ways[2].latency.p50.back());
  }
  size_t fastest = 0;
  for (size_t w = 1; w < ways.size(); ++w)
    if (Median(ways[w].latency.p50) < Median(ways[fastest].latency.p50)) fastest = w;

  // ---- TreeSHAP ----
  const size_t shap_cols = cols + 1;
  std::vector<float> sluice_phi(shap_rows * shap_cols);
  std::vector<float> xgb_phi(shap_rows * shap_cols);
  Series shap_sluice, shap_xgb;
  model->Contributions(x.data(), sluice_phi.data());  // sizes the thread_local scratch
  for (int rep = 0; rep < opt.shap_reps; ++rep) {
    const Timing s = TimeIt([&] {
      for (size_t r = 0; r < shap_rows; ++r)
        model->Contributions(x.data() + r * cols, sluice_phi.data() + r * shap_cols);
    });
    DMatrixHandle shap_matrix = make_dmatrix(shap_rows);
    const Timing d = TimeIt([&] {
      const bst_ulong* shape = nullptr;
      bst_ulong dim = 0;
      const float* out = nullptr;
      XGB_CHECK(
          XGBoosterPredictFromDMatrix(booster, shap_matrix, kContribConfig, &shape, &dim, &out));
      if (dim != 2 || shape[0] != shap_rows || shape[1] != shap_cols)
        Fail("unexpected pred_contribs shape");
      std::copy(out, out + shap_rows * shap_cols, xgb_phi.begin());
    });
    XGB_CHECK(XGDMatrixFree(shap_matrix));
    shap_sluice.Add(s);
    shap_xgb.Add(d);
    std::fprintf(stderr, "  shap rep %d: sluice %.4f s, xgboost %.4f s (%zu rows)\n", rep + 1,
                 s.wall, d.wall, shap_rows);
  }

  // ---- checks ----
  // Contributions of a row add up to its margin on both sides.
  float shap_sum_error = 0;
  for (size_t r = 0; r < shap_rows; ++r) {
    double sum = 0;
    for (size_t c = 0; c < shap_cols; ++c) sum += sluice_phi[r * shap_cols + c];
    shap_sum_error = std::max(shap_sum_error, std::fabs(static_cast<float>(sum) - xgb_margin[r]));
  }
  const float diff_prob = MaxAbsDiff(sluice_prob.data(), xgb_prob.data(), rows);
  const float diff_dense = MaxAbsDiff(xgb_dense_prob.data(), xgb_prob.data(), rows);
  const float diff_margin = MaxAbsDiff(sluice_margin.data(), xgb_margin.data(), rows);
  const float diff_single = MaxAbsDiff(sluice_single.data(), sluice_prob.data(), single_calls);
  const float diff_phi = MaxAbsDiff(sluice_phi.data(), xgb_phi.data(), shap_rows * shap_cols);
  size_t margins_bit_equal = 0;
  for (size_t r = 0; r < rows; ++r)
    margins_bit_equal += std::memcmp(&sluice_margin[r], &xgb_margin[r], sizeof(float)) == 0;

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const int threads = ThreadCount();

  XGB_CHECK(XGDMatrixFree(proxy));

  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  const double mib = 1024.0 * 1024.0;
  std::printf("{\n");
  std::printf("  \"model\": \"%s\", \"trees\": %zu, \"features\": %zu, \"rows\": %zu,\n",
              opt.model.c_str(), model->num_trees(), cols, rows);
  std::printf("  \"xgboost_version\": \"%d.%d.%d\", \"reps\": %d, \"shap_reps\": %d,\n", major,
              minor, patch, opt.reps, opt.shap_reps);
  std::printf(
      "  \"batch\": {\"sluice\": %s,\n    \"xgboost_dmatrix\": %s,\n    \"xgboost_dense\": %s},\n",
      JsonSeries(batch_sluice).c_str(), JsonSeries(batch_xgb_dmatrix).c_str(),
      JsonSeries(batch_xgb_dense).c_str());
  std::printf("  \"single\": {\"calls\": %zu, \"sluice\": %s,\n", single_calls,
              JsonLatency(single_sluice).c_str());
  std::printf("    \"xgboost_fastest\": \"%s\",\n    \"xgboost\": {", ways[fastest].name);
  for (size_t w = 0; w < ways.size(); ++w)
    std::printf("%s\n      \"%s\": %s", w ? "," : "", ways[w].name,
                JsonLatency(ways[w].latency).c_str());
  std::printf("}},\n");
  std::printf("  \"shap\": {\"rows\": %zu, \"sluice\": %s,\n    \"xgboost\": %s},\n", shap_rows,
              JsonSeries(shap_sluice).c_str(), JsonSeries(shap_xgb).c_str());
  std::printf(
      "  \"check\": {\"max_abs_diff_probability\": %.9g, \"max_abs_diff_margin\": %.9g, "
      "\"margins_bit_equal\": %zu, \"max_abs_diff_contribution\": %.9g, "
      "\"max_abs_contribution_sum_minus_margin\": %.9g, "
      "\"max_abs_diff_sluice_single_vs_batch\": %.9g, "
      "\"max_abs_diff_xgboost_single_vs_batch\": %.9g, "
      "\"max_abs_diff_xgboost_dense_vs_dmatrix\": %.9g},\n",
      diff_prob, diff_margin, margins_bit_equal, diff_phi, shap_sum_error, diff_single,
      single_check_xgb, diff_dense);
  std::printf(
      "  \"process\": {\"user_s\": %.3f, \"sys_s\": %.3f, \"peak_rss_mib\": %.1f, "
      "\"rss_sluice_model_mib\": %.1f, \"rss_xgboost_model_mib\": %.1f, \"threads\": %d, "
      "\"omp_num_threads\": \"%s\", \"sluice_load_cpu_s\": %.3f, \"xgboost_load_cpu_s\": %.3f, "
      "\"sluice_contribution_table_mib\": %.2f, \"sluice_scoring_kernel\": \"%s\"}\n",
      static_cast<double>(usage.ru_utime.tv_sec) +
          static_cast<double>(usage.ru_utime.tv_usec) * 1e-6,
      static_cast<double>(usage.ru_stime.tv_sec) +
          static_cast<double>(usage.ru_stime.tv_usec) * 1e-6,
      static_cast<double>(usage.ru_maxrss) / 1024.0, (rss_after_sluice - rss_start) / mib,
      (rss_after_xgb - rss_after_sluice) / mib, threads, std::getenv("OMP_NUM_THREADS"),
      sluice_load_s, xgboost_load_s, static_cast<double>(model->contribution_table_bytes()) / mib,
      std::string(model->scoring_kernel()).c_str());
  std::printf("}\n");
  XGB_CHECK(XGBoosterFree(booster));
  return 0;
}
