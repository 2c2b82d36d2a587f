#include "base/status.h"

namespace carnet {
namespace {

constexpr ErrorInfo kErrorTable[] = {
#define CARNET_ERROR(name, http, fhir, xds) {#name, http, fhir, xds},
#include "base/error_codes.def"
#undef CARNET_ERROR
};

}  // namespace

const ErrorInfo& ErrorInfoFor(ErrorCode code) {
  auto index = static_cast<size_t>(code);
  if (index >= std::size(kErrorTable)) index = static_cast<size_t>(ErrorCode::kInternal);
  return kErrorTable[index];
}

Status::Status(ErrorCode code, std::string message, std::string location) {
  if (code == ErrorCode::kOk) return;
  rep_ = std::make_shared<const Rep>(Rep{code, std::move(message), std::move(location), {}});
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

const std::string& Status::location() const {
  static const std::string kEmpty;
  return rep_ ? rep_->location : kEmpty;
}

const std::vector<Status::Detail>& Status::details() const {
  static const std::vector<Detail> kNone;
  return rep_ ? rep_->details : kNone;
}

Status Status::WithDetails(std::vector<Detail> details) const {
  if (!rep_) return *this;
  Status out;
  out.rep_ = std::make_shared<const Rep>(Rep{rep_->code, rep_->message, rep_->location, std::move(details)});
  return out;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(ErrorInfoFor(code()).name);
  out += ": ";
  out += rep_->message;
  if (!rep_->location.empty()) out += " (at " + rep_->location + ")";
  return out;
}

Status BadRequest(std::string m, std::string loc) {
  return Status(ErrorCode::kBadRequest, std::move(m), std::move(loc));
}
Status Invalid(std::string m, std::string loc) {
  return Status(ErrorCode::kInvalid, std::move(m), std::move(loc));
}
Status NotFound(std::string m) { return Status(ErrorCode::kNotFound, std::move(m)); }
Status Conflict(std::string m) { return Status(ErrorCode::kConflict, std::move(m)); }
Status Unavailable(std::string m) { return Status(ErrorCode::kUnavailable, std::move(m)); }
Status Internal(std::string m) { return Status(ErrorCode::kInternal, std::move(m)); }

}  // namespace carnet
