// The sample messages of ../shared/testdata/xds/messages/ against the live gateway, as the
// data file tests/data/xds/live_samples.tsv lists them: sent byte for byte (or, for bare SOAP
// bodies, wrapped in an envelope with their transaction's Action), each with the answer it
// must get. The raw MTOM request is in xds_test.cc.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* ActionOf(const std::string& iti) {
  if (iti == "ITI-18") return "urn:ihe:iti:2007:RegistryStoredQuery";
  if (iti == "ITI-41") return "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b";
  if (iti == "ITI-42") return "urn:ihe:iti:2007:RegisterDocumentSet-b";
  if (iti == "ITI-43") return "urn:ihe:iti:2007:RetrieveDocumentSet";
  return "";
}

TEST(XdsSamplesTest, EverySampleGetsItsAnswer) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  std::ifstream table(std::string(CARNET_SOURCE_DIR) + "/tests/data/xds/live_samples.tsv");
  ASSERT_TRUE(table) << "tests/data/xds/live_samples.tsv";
  std::string line;
  int rows = 0;
  while (std::getline(table, line)) {
    if (line.empty() || line[0] == '#') continue;
    // Cells are separated by tabs or by runs of two spaces or more (aligned columns).
    for (char& c : line)
      if (c == '\t') c = '\x01';
    std::vector<std::string> f;
    std::string cell;
    for (size_t i = 0; i <= line.size(); ++i) {
      bool sep = i == line.size() || line[i] == '\x01' || (line[i] == ' ' && i + 1 < line.size() && line[i + 1] == ' ');
      if (!sep) {
        cell.push_back(line[i]);
        continue;
      }
      size_t a = cell.find_first_not_of(' ');
      if (a != std::string::npos) f.push_back(cell.substr(a, cell.find_last_not_of(' ') - a + 1));
      cell.clear();
    }
    ASSERT_GE(f.size(), 6u) << "bad row: " << line;
    ++rows;
    SCOPED_TRACE(f[0]);
    std::string body = Read(std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/xds/messages/" + f[0]);
    ASSERT_FALSE(body.empty());
    if (f[2] != "raw") {
      if (body.rfind("<?xml", 0) == 0) body = body.substr(body.find("?>") + 2);
      body = std::string("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
                         "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action>") +
             ActionOf(f[2]) + "</a:Action><a:MessageID>urn:uuid:" + NewUuid() + "</a:MessageID></s:Header><s:Body>" +
             body + "</s:Body></s:Envelope>";
    }
    auto r = client.Request("POST", gateway.base_url() + f[1], {kSoap}, body);
    EXPECT_EQ(r.status, std::stol(f[3])) << r.body.substr(0, 600);
    EXPECT_NE(r.body.find(f[4]), std::string::npos) << "expected " << f[4] << " in " << r.body.substr(0, 800);
    if (f[5] != "-") {
      EXPECT_NE(r.body.find(f[5]), std::string::npos) << "expected " << f[5];
    }
    EXPECT_NE(r.headers["content-type"].find("application/soap+xml"), std::string::npos);
  }
  EXPECT_GE(rows, 22);
}

}  // namespace
}  // namespace carnet::testing
