#pragma once
// The pipeline's reason codes, compiled: each code's text, which may quote
// values of the record ("Amount {amount:.2f} is {amount / avg_amount_30d:.1f}
// times this card's average"), and the model inputs each code stands for
// when reasons come from contributions (a code may group several inputs).
//
// Policies put Reason entries in the batch with `text_template` set when the
// text quotes values; RenderTexts() fills those texts once the values are
// computed (the placeholders are compiled into the program that runs after
// every policy, so that texts may quote policy outputs too).
//
// Thread safety: immutable after Finish(); RenderTexts may run concurrently
// on different batches.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "expr/expr.h"
#include "pipeline/spec.h"
#include "types/batch.h"

namespace sluice::decide {

class ReasonCatalog {
 public:
  explicit ReasonCatalog(const pipeline::PipelineSpec& spec);
  // Copies share the codes (and what CompileTexts adds to them later).
  ReasonCatalog(const ReasonCatalog&) = default;
  ReasonCatalog& operator=(const ReasonCatalog&) = default;

  // The index of `code`, or -1 after appending a diagnostic.
  int Resolve(const pipeline::NamedRef& code, std::vector<Diagnostic>* diags);
  // The index of `code`, or -1.
  int Find(std::string_view code) const;
  size_t size() const { return entries_->size(); }
  std::string_view code(int i) const { return (*entries_)[static_cast<size_t>(i)].code; }
  std::string_view text(int i) const { return (*entries_)[static_cast<size_t>(i)].text; }

  // The reason code of each model input: the code whose `features` list the
  // input, else the code named like the input, else -1. Marks them used.
  std::vector<int> CodesForInputs(const std::vector<std::string>& inputs);

  // Compiles the placeholders of the texts of every code used so far into
  // `compiler` (whose next Finish() gives the program to run before
  // RenderTexts), and checks those of the other codes. Returns false after
  // appending diagnostics.
  bool CompileTexts(expr::Compiler& compiler, const expr::Scope& scope,
                    std::vector<Diagnostic>* diags);

  // The reason of code `i` as policies record it.
  Reason MakeReason(int i) const;

  // Fills in the texts of the reasons of list `list` that quote values.
  // REQUIRES: the program of CompileTexts has run on `batch`.
  void RenderTexts(Batch& batch, int list) const;

 private:
  struct Part {
    std::string literal;  // text before the placeholder (or the tail)
    int column = -1;      // -1: no placeholder (the tail)
    Type type;
    int decimals = -1;  // ".2f"; -1: shortest
  };
  struct Entry {
    std::string code;
    std::string text;
    const pipeline::ReasonCodeSpec* spec = nullptr;
    bool used = false;
    bool templated = false;
    bool checked = false;  // the placeholders were compiled (or checked)
    std::vector<Part> parts;
  };
  // Compiles the placeholders of `e`'s text into `parts`; false after
  // appending a diagnostic.
  static bool CompileText(const Entry& e, expr::Compiler& compiler, const expr::Scope& scope,
                          std::vector<Diagnostic>* diags, std::vector<Part>* parts);

  // Shared so that the views in Reason entries survive moves of the catalog.
  std::shared_ptr<std::vector<Entry>> entries_;
};

}  // namespace sluice::decide
