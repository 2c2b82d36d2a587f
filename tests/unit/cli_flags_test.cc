// Issue 19: an unknown command-line flag, an unknown setting in the configuration file and an
// unknown actor kind of `carnet-gateway token` are refused with what was probably meant.
#include <gtest/gtest.h>

#include <fstream>

#include "base/strings.h"
#include "profiles/dev_token.h"
#include "server/config.h"

namespace carnet {
namespace {

Result<Config> Load(std::vector<std::string> args) {
  std::vector<char*> argv;
  static char prog[] = "carnet-gateway";
  argv.push_back(prog);
  for (auto& a : args) argv.push_back(a.data());
  bool help = false;
  return LoadConfig(static_cast<int>(argv.size()), argv.data(), &help);
}

TEST(CliFlagsTest, EditDistanceAndCloseMatches) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("port", "port"), 0u);
  EXPECT_EQ(EditDistance("prot", "port"), 2u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("--workres", "--workers"), 2u);
  std::vector<std::string> known = {"--port", "--tls-port", "--workers", "--bind"};
  EXPECT_EQ(CloseMatches("--prot", known), std::vector<std::string>{"--port"});
  EXPECT_EQ(CloseMatches("port", known), (std::vector<std::string>{"--port", "--tls-port"}));
  EXPECT_EQ(CloseMatches("--colour", known), std::vector<std::string>{});
}

TEST(CliFlagsTest, AnUnknownFlagIsRefusedWithTheCloseMatches) {
  auto c = Load({"serve", "--prot", "8081"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kBadRequest);
  EXPECT_NE(c.status().message().find("unknown flag --prot for serve; did you mean --port"),
            std::string::npos)
      << c.status().message();
  auto inline_value = Load({"serve", "--workres=3"});
  ASSERT_FALSE(inline_value.ok());
  EXPECT_NE(inline_value.status().message().find("--workers"), std::string::npos)
      << inline_value.status().message();
  auto nothing_close = Load({"serve", "--frobnicate", "1"});
  ASSERT_FALSE(nothing_close.ok());
  EXPECT_EQ(nothing_close.status().message().find("did you mean"), std::string::npos);
  EXPECT_NE(nothing_close.status().message().find("--frobnicate"), std::string::npos);
  // A command's own flags pass, and are checked against that command's list.
  EXPECT_TRUE(Load({"token", "--actor", "patient", "--patient", "1234", "--consent"}).ok());
  EXPECT_TRUE(Load({"reindex", "--type", "Observation"}).ok());
  EXPECT_TRUE(Load({"conformance", "--base", "http://x/fhir", "--var", "a=b", "suite"}).ok());
  auto token = Load({"token", "--actor", "professional", "--profesion", "10"});
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("--profession"), std::string::npos)
      << token.status().message();
  auto reindex = Load({"reindex", "--tpye", "Observation"});
  ASSERT_FALSE(reindex.ok());
  EXPECT_NE(reindex.status().message().find("--type"), std::string::npos);
  // A setting flag is known to every command.
  EXPECT_TRUE(Load({"migrate", "--db-pool-size", "2"}).ok());
}

TEST(CliFlagsTest, AnUnknownSettingInTheFileNamesTheCloseMatches) {
  std::string file = ::testing::TempDir() + "/carnet_cli_flags_test.conf";
  std::ofstream(file) << "port = 7000\nworkres = 4\n";
  auto c = Load({"serve", "--config", file});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(":2: unknown setting workres; did you mean workers"),
            std::string::npos)
      << c.status().message();
}

TEST(CliFlagsTest, TokenListsTheActorKinds) {
  auto r = profiles::ParseDevTokenArgs({"--actor", "WRONG"});
  ASSERT_FALSE(r.ok());
  for (const char* kind : {"patient", "guardian", "professional", "app", "system", "operator"})
    EXPECT_NE(r.status().message().find(kind), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("unknown actor kind 'WRONG'"), std::string::npos);
  auto none = profiles::ParseDevTokenArgs({"--id", "x"});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("professional"), std::string::npos);
  auto typo = profiles::ParseDevTokenArgs({"--actor", "patient", "--pateint", "1"});
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("did you mean --patient"), std::string::npos)
      << typo.status().message();
}

}  // namespace
}  // namespace carnet
