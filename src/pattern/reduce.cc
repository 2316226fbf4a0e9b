// ReduceToSimpleComparisons (see pattern.h): recognises patterns that are
// plain lookups so the correlation index can answer them from a hash table or
// a CIDR table instead of running the evaluator.
#include "pattern/pattern.h"

namespace kizuna::pattern {
namespace {

bool IsPlainKeyPath(const ObjectPath& path) {
  for (const PathStep& step : path.steps) {
    if (step.kind != PathStep::Kind::kKey) return false;
    const std::string& key = step.key;
    // A key after a *_ref would dereference; the index sees single objects.
    auto ends_with = [&](std::string_view suffix) {
      return key.size() >= suffix.size() &&
             key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with("_ref") || ends_with("_refs")) return false;
  }
  return true;
}

// Appends the lookups `expr` stands for; false when it is not an OR of
// simple tests.
bool ReduceComparison(const ComparisonExpression& expr, std::vector<SimpleComparison>* out) {
  if (expr.kind == ComparisonExpression::Kind::kAnd) return false;
  if (expr.kind == ComparisonExpression::Kind::kOr) {
    for (const ComparisonExpression& child : expr.children) {
      if (!ReduceComparison(child, out)) return false;
    }
    return true;
  }
  if (expr.negated || !IsPlainKeyPath(expr.path)) return false;
  SimpleComparison base;
  base.object_type = expr.path.object_type;
  base.property_path = expr.path.PropertyString();
  switch (expr.op) {
    case CompareOp::kEqual:
    case CompareOp::kIn:
      for (const Literal& literal : expr.literals) {
        if (literal.kind != LiteralKind::kString) return false;
      }
      for (const Literal& literal : expr.literals) {
        SimpleComparison comparison = base;
        comparison.kind = SimpleComparison::Kind::kEquals;
        comparison.value = literal.text;
        out->push_back(std::move(comparison));
      }
      return true;
    case CompareOp::kIsSubset:
      if ((base.object_type != "ipv4-addr" && base.object_type != "ipv6-addr") ||
          base.property_path != "value" || !expr.cidr ||
          expr.cidr->v6 != (base.object_type == "ipv6-addr")) {
        return false;
      }
      base.kind = SimpleComparison::Kind::kCidrSubset;
      base.value = expr.literals[0].text;
      out->push_back(std::move(base));
      return true;
    default:
      return false;
  }
}

bool ReduceObservation(const ObservationExpression& node, std::vector<SimpleComparison>* out) {
  switch (node.kind) {
    case ObservationExpression::Kind::kComparison:
      return ReduceComparison(node.comparison, out);
    case ObservationExpression::Kind::kOr:
      for (const ObservationExpression& child : node.children) {
        if (!ReduceObservation(child, out)) return false;
      }
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<std::vector<SimpleComparison>> ReduceToSimpleComparisons(const Pattern& pattern) {
  std::vector<SimpleComparison> comparisons;
  if (!ReduceObservation(pattern.root, &comparisons) || comparisons.empty()) return std::nullopt;
  return comparisons;
}

}  // namespace kizuna::pattern
