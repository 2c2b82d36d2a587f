#include "base/status.h"

#include <gtest/gtest.h>

namespace carnet {
namespace {

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status st;
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::kOk);
  EXPECT_EQ(st.message(), "");
  EXPECT_EQ(st.ToString(), "OK");
  EXPECT_TRUE(Status(ErrorCode::kOk, "ignored").ok());
}

TEST(StatusTest, CarriesCodeMessageAndLocation) {
  Status st = Invalid("birthDate is not a date", "Patient.birthDate");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::kInvalid);
  EXPECT_EQ(st.message(), "birthDate is not a date");
  EXPECT_EQ(st.location(), "Patient.birthDate");
  EXPECT_EQ(st.http_status(), 422);
  EXPECT_EQ(st.ToString(), "kInvalid: birthDate is not a date (at Patient.birthDate)");
}

// The one error table: each code maps to exactly the HTTP status, FHIR issue code and XDS
// error code the standards prescribe for it.
TEST(ErrorTableTest, MapsEachCodeToHttpFhirAndXds) {
  struct Row {
    ErrorCode code;
    int http;
    const char* fhir;
    const char* xds;
  };
  const Row rows[] = {
      {ErrorCode::kBadRequest, 400, "structure", "XDSRegistryError"},
      {ErrorCode::kInvalid, 422, "invalid", "XDSRegistryMetadataError"},
      {ErrorCode::kUnauthorized, 401, "login", "XDSRegistryError"},
      {ErrorCode::kForbidden, 403, "forbidden", "LocalPolicyRestrictionError"},
      {ErrorCode::kNotFound, 404, "not-found", "XDSRegistryError"},
      {ErrorCode::kMethodNotAllowed, 405, "not-supported", "XDSRegistryError"},
      {ErrorCode::kNotAcceptable, 406, "not-supported", "XDSRegistryError"},
      {ErrorCode::kConflict, 409, "conflict", "XDSRegistryError"},
      {ErrorCode::kDuplicate, 409, "duplicate", "XDSDuplicateUniqueIdInRegistry"},
      {ErrorCode::kGone, 410, "deleted", "XDSRegistryError"},
      {ErrorCode::kPreconditionFailed, 412, "conflict", "XDSMetadataVersionError"},
      {ErrorCode::kPayloadTooLarge, 413, "too-long", "XDSRegistryError"},
      {ErrorCode::kUnsupportedMediaType, 415, "not-supported", "XDSRegistryError"},
      {ErrorCode::kUnknownPatient, 404, "not-found", "XDSUnknownPatientId"},
      {ErrorCode::kPatientIdMismatch, 422, "business-rule", "XDSPatientIdDoesNotMatch"},
      {ErrorCode::kTooManyResults, 422, "too-costly", "XDSTooManyResults"},
      {ErrorCode::kUnavailable, 503, "transient", "XDSRegistryBusy"},
      {ErrorCode::kTimeout, 503, "timeout", "XDSRegistryBusy"},
      {ErrorCode::kInternal, 500, "exception", "XDSRegistryError"},
  };
  for (const Row& row : rows) {
    const ErrorInfo& info = ErrorInfoFor(row.code);
    SCOPED_TRACE(std::string(info.name));
    EXPECT_EQ(info.http_status, row.http);
    EXPECT_EQ(info.fhir_code, row.fhir);
    EXPECT_EQ(info.xds_code, row.xds);
  }
  // Out-of-range values fall back to the internal-error row instead of reading past the end.
  EXPECT_EQ(ErrorInfoFor(static_cast<ErrorCode>(9999)).http_status, 500);
}

TEST(ErrorTableTest, EveryErrorCodeIsAnHttpError) {
  for (int i = 1;; ++i) {
    const ErrorInfo& info = ErrorInfoFor(static_cast<ErrorCode>(i));
    if (info.name == "kInternal" && i != static_cast<int>(ErrorCode::kInternal)) break;
    EXPECT_GE(info.http_status, 400) << info.name;
    EXPECT_FALSE(info.fhir_code.empty()) << info.name;
    EXPECT_FALSE(info.xds_code.empty()) << info.name;
    if (i == static_cast<int>(ErrorCode::kInternal)) break;
  }
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good(42);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  EXPECT_TRUE(good.status().ok());
  Result<int> bad(NotFound("nothing"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kNotFound);
  // An OK status is not a value: it becomes an internal error rather than a silent success.
  Result<int> confused{Status()};
  EXPECT_FALSE(confused.ok());
  EXPECT_EQ(confused.status().code(), ErrorCode::kInternal);
}

Status FailsEarly(bool fail, int* reached) {
  CARNET_RETURN_IF_ERROR(fail ? Conflict("stop") : Status::Ok());
  *reached = 1;
  return Status::Ok();
}

TEST(ResultTest, ReturnIfErrorStopsAtFirstFailure) {
  int reached = 0;
  EXPECT_EQ(FailsEarly(true, &reached).code(), ErrorCode::kConflict);
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(FailsEarly(false, &reached).ok());
  EXPECT_EQ(reached, 1);
}

}  // namespace
}  // namespace carnet
