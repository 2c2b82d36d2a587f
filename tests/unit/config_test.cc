#include "server/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

namespace carnet {
namespace {

Result<Config> Load(std::vector<std::string> args, bool* help = nullptr) {
  std::vector<char*> argv;
  static char prog[] = "carnet";
  argv.push_back(prog);
  for (auto& a : args) argv.push_back(a.data());
  bool h = false;
  return LoadConfig(static_cast<int>(argv.size()), argv.data(), help ? help : &h);
}

class ConfigTest : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("CARNET_PORT");
    unsetenv("CARNET_DB_POOL_SIZE");
    unsetenv("CARNET_CONFIG_FILE");
  }
};

TEST_F(ConfigTest, Defaults) {
  auto c = Load({"serve"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->command, "serve");
  EXPECT_EQ(c->bind, "127.0.0.1");
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->data_dir, "var");
  EXPECT_GE(c->max_request_size, 64u << 20);
}

TEST_F(ConfigTest, FlagsBeatEnvironmentBeatFile) {
  std::string file = ::testing::TempDir() + "/carnet_config_test.conf";
  {
    std::ofstream out(file);
    out << "# comment\nport = 7000\ndb_pool_size = 3\nworkers=5\n";
  }
  setenv("CARNET_CONFIG_FILE", file.c_str(), 1);
  setenv("CARNET_PORT", "7100", 1);
  auto c = Load({"serve", "--workers", "6"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->port, 7100);        // environment over file
  EXPECT_EQ(c->db_pool_size, 3);   // file over default
  EXPECT_EQ(c->workers, 6);        // flag over file
  auto d = Load({"serve", "--port=7200"});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 7200);        // flag over environment
}

TEST_F(ConfigTest, DataShortFlagAndPassThroughArgs) {
  auto c = Load({"token", "--data", "/tmp/x", "--actor", "patient", "extra"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, "/tmp/x");
  EXPECT_EQ(c->command, "token");
  EXPECT_EQ(c->args, (std::vector<std::string>{"--actor", "patient", "extra"}));
  EXPECT_NE(c->EffectiveConninfo().find("host=/tmp/x/run"), std::string::npos);
}

TEST_F(ConfigTest, RejectsBadValues) {
  EXPECT_EQ(Load({"serve", "--port", "70000"}).status().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(Load({"serve", "--port", "80a"}).status().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(Load({"serve", "--debug-routes", "maybe"}).status().code(), ErrorCode::kBadRequest);
  EXPECT_FALSE(Load({"serve", "--port"}).ok());
  setenv("CARNET_DB_POOL_SIZE", "0", 1);
  auto c = Load({"serve"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("CARNET_DB_POOL_SIZE"), std::string::npos);
}

TEST_F(ConfigTest, HelpListsEverySettingWithDefault) {
  bool help = false;
  ASSERT_TRUE(Load({"--help"}, &help).ok());
  EXPECT_TRUE(help);
  std::string text = HelpText();
  for (const char* s : {"--port", "CARNET_PORT", "default 8080", "--db-pool-size",
                        "--max-request-size", "--shutdown-grace-ms", "--data-dir", "--bind"})
    EXPECT_NE(text.find(s), std::string::npos) << s;
}

}  // namespace
}  // namespace carnet
