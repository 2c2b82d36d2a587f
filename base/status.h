// Status and Result<T>: how every layer of carnet reports success or failure.
//
// Exceptions never cross a layer boundary: a function that can fail returns a Status (or a
// Result<T> holding either a value or a non-OK Status). A Status carries one ErrorCode from
// the error table (error_codes.def), a message a person can act on, and optionally the
// location of the problem (a FHIRPath expression, an XDS object id...), so that the front
// ends can render a precise OperationOutcome or RegistryError.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace carnet {

enum class ErrorCode {
#define CARNET_ERROR(name, http, fhir, xds) name,
#include "base/error_codes.def"
#undef CARNET_ERROR
};

// What the front ends need to render an error; one row of error_codes.def.
struct ErrorInfo {
  std::string_view name;       // "kNotFound"
  int http_status;             // 404
  std::string_view fhir_code;  // "not-found"
  std::string_view xds_code;   // "XDSRegistryError"
};

// Never fails: every ErrorCode has a row.
const ErrorInfo& ErrorInfoFor(ErrorCode code);

class Status {
 public:
  // OK costs one null pointer, as in LevelDB.
  Status() = default;
  Status(ErrorCode code, std::string message, std::string location = {});

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  ErrorCode code() const { return rep_ ? rep_->code : ErrorCode::kOk; }
  // Empty for OK.
  const std::string& message() const;
  // Where the problem is (FHIRPath expression, XDS object id...); may be empty.
  const std::string& location() const;
  int http_status() const { return ErrorInfoFor(code()).http_status; }

  // "kNotFound: Patient/123 is not known".
  std::string ToString() const;

  // Further problems found together with the first one (validation collects them all).
  struct Detail {
    std::string message;
    std::string location;
    // Its own FHIR issue type when it differs from the lead's (an invariant broken beside a
    // structural error); empty: the status's.
    std::string issue_code = {};
    // Its severity when it is not an error (a warning told beside the errors); empty: error.
    std::string severity = {};
  };
  const std::vector<Detail>& details() const;
  // A copy of this status carrying `details` (no effect on OK).
  Status WithDetails(std::vector<Detail> details) const;

 private:
  struct Rep {
    ErrorCode code;
    std::string message;
    std::string location;
    std::vector<Detail> details;
  };
  std::shared_ptr<const Rep> rep_;
};

// Shorthands, so call sites read as sentences: return NotFound("Patient/1 is not known");
Status BadRequest(std::string message, std::string location = {});
Status Invalid(std::string message, std::string location = {});
Status NotFound(std::string message);
Status Conflict(std::string message);
Status Unavailable(std::string message);
Status Internal(std::string message);

// Either a T or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) v_ = Status(ErrorCode::kInternal, "OK status used as error");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace carnet

// Returns early from the calling function when `expr` yields a non-OK Status.
#define CARNET_RETURN_IF_ERROR(expr)            \
  do {                                          \
    ::carnet::Status carnet_status_ = (expr);   \
    if (!carnet_status_.ok()) return carnet_status_; \
  } while (0)
