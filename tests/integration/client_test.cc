// A real FHIR client library from the ecosystem (the fhir-kit-client npm package, driven by
// tests/clients/fhir-kit/client_test.mjs) against the live gateway.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

TEST(EcosystemClientTest, FhirKitClientCrudAndTransaction) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  std::string dir = std::string(CARNET_SOURCE_DIR) + "/tests/clients/fhir-kit";
  std::string out = ::testing::TempDir() + "/fhir-kit-client.out";
  std::string cmd = "node '" + dir + "/client_test.mjs' '" + gateway.base_url() + "/fhir' '" +
                    SuiteToken() + "' > '" + out + "' 2>&1";
  int rc = std::system(cmd.c_str());
  std::string log;
  if (FILE* f = std::fopen(out.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) log.append(buf, n);
    std::fclose(f);
  }
  EXPECT_EQ(rc, 0) << log;
  EXPECT_NE(log.find(" passed, 0 failed"), std::string::npos) << log;
}

}  // namespace
}  // namespace carnet::testing
