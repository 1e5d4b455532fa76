#include "common/check.h"
#include "common/fnv.h"
#include "expr/internal/checker.h"
#include "expr/internal/codegen.h"
#include "expr/internal/condition_shape.h"
#include "expr/internal/kernels.h"
#include "expr/internal/lexer.h"
#include "expr/internal/parser.h"

namespace sluice::expr {

Program::Program() = default;
Program::~Program() = default;
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;

void Program::Run(Batch& batch, StepRunner* steps) const {
  for (size_t i = 0; i < code_.size(); ++i) {
    if (step_[i] >= 0) {
      SLUICE_CHECK(steps != nullptr);
      steps->RunStep(step_[i], batch);
    } else {
      code_[i]->Run(batch);
    }
  }
}

bool Program::has_steps() const {
  for (int s : step_) {
    if (s >= 0) return true;
  }
  return false;
}

std::optional<int64_t> ParseDuration(std::string_view text) {
  if (text == "0") return 0;
  return internal::DurationNanos(text);
}

std::string_view AggregateName(AggregateKind kind) {
  return internal::FindAggregate(kind)->name;
}

size_t Program::num_instructions() const {
  return code_.size();
}

struct Compiler::Impl {
  BatchLayout* layout;
  ErrorTable* errors;
  internal::ColumnPool pool;
  std::vector<std::unique_ptr<Instruction>> code;
  WindowRegistry* windows = nullptr;
  std::string windows_why_not;
};

Compiler::Compiler(BatchLayout* layout, ErrorTable* errors)
    : impl_(std::make_unique<Impl>(Impl{layout, errors, {}, {}, nullptr, {}})) {}

void Compiler::set_window_registry(WindowRegistry* registry, std::string why_not) {
  impl_->windows = registry;
  impl_->windows_why_not = std::move(why_not);
}

Compiler::~Compiler() = default;

std::optional<CompiledExpr> Compiler::Compile(std::string_view text, const Scope& scope,
                                              const TextLocator& where,
                                              std::string_view result_name,
                                              std::string_view context,
                                              std::vector<Diagnostic>* diags) {
  auto fail = [&](size_t offset, std::string message) -> std::optional<CompiledExpr> {
    diags->push_back(Diagnostic{where.Locate(offset), std::move(message)});
    return std::nullopt;
  };
  std::vector<internal::Token> tokens;
  internal::LexError lex_error;
  if (!internal::Tokenize(text, &tokens, &lex_error)) {
    return fail(lex_error.offset, std::move(lex_error.message));
  }
  internal::Parser parser(tokens, [&where](size_t offset) { return where.Locate(offset).column; });
  internal::NodePtr root = parser.ParseExpression();
  if (!root) return fail(parser.error().offset, parser.error().message);
  internal::Checker checker(scope, impl_->windows != nullptr, impl_->windows_why_not);
  if (!checker.Check(*root)) return fail(checker.error().offset, checker.error().message);

  internal::CodeGen codegen(text, context, impl_->layout, impl_->errors, &impl_->pool, &impl_->code,
                            impl_->windows);
  codegen.set_scope(&scope);
  int column = codegen.EmitRoot(*root, std::string(result_name));
  CompiledExpr out{column, root->type, {}, {}};
  out.definition = Fnv1a64Hex(std::string(text) + " {" + internal::NameLineage(*root, &scope) +
                              "} " + TypeName(root->type));
  if (root->type.kind == TypeKind::kBool) out.shape = internal::ReadConditionShape(*root);
  return out;
}

Program Compiler::Finish() {
  Program p;
  p.code_ = std::move(impl_->code);
  impl_->code.clear();
  for (const auto& instruction : p.code_) {
    const auto* step = dynamic_cast<const internal::StepMarker*>(instruction.get());
    p.step_.push_back(step != nullptr ? step->id() : -1);
  }
  return p;
}

}  // namespace sluice::expr
