#include "profiles/reason_codes.h"

namespace carnet::profiles {
namespace {

struct Row {
  Reason reason;
  std::string_view code;
  ReasonSide side;
  std::string_view meaning;
};

const std::vector<Row>& Rows() {
  static const std::vector<Row> kRows = {
#define CARNET_REASON(name, code, side, meaning) {Reason::name, code, ReasonSide::side, meaning},
#include "profiles/reason_codes.def"
#undef CARNET_REASON
  };
  return kRows;
}

}  // namespace

std::string_view ReasonCode(Reason reason) { return Rows()[static_cast<size_t>(reason)].code; }

std::string_view ReasonMeaning(Reason reason) {
  return Rows()[static_cast<size_t>(reason)].meaning;
}

ReasonSide SideOf(Reason reason) { return Rows()[static_cast<size_t>(reason)].side; }

std::optional<Reason> ParseReason(std::string_view code) {
  for (const Row& r : Rows())
    if (r.code == code) return r.reason;
  return std::nullopt;
}

const std::vector<Reason>& AllReasons() {
  static const std::vector<Reason> kAll = [] {
    std::vector<Reason> out;
    for (const Row& r : Rows()) out.push_back(r.reason);
    return out;
  }();
  return kAll;
}

}  // namespace carnet::profiles
