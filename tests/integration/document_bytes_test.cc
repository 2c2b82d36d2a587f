// Issue 20, "Deposits: bytes once": a document's bytes are one row of document_content (per
// record and SHA-256), outside the versioned resource JSON. Two ITI-41 (real MTOM, the sample
// message of ../shared/testdata/xds/messages/http-mtom-pnr.txt with fresh ids) of the same
// bytes, then new versions of the Binary's and the DocumentReference's metadata, add no second
// copy and leave no `data` in any stored JSON; ITI-43, the Binary read (ITI-68) and its vread
// give back the exact bytes, whose SHA-1 and size are those XDS publishes.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <fstream>
#include <sstream>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

std::string Sha256Hex(const std::string& bytes) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), d);
  return HexEncode(std::string(reinterpret_cast<const char*>(d), sizeof d));
}

MtomSubmission FreshSample() { return FreshSampleMtom("20"); }

class DocumentBytesTest : public SharedGatewayTest {
 protected:
  std::string Url(const std::string& path) { return gateway_->base_url() + path; }
  void SetUp() override {
    auto r = client_.Request(
        "POST", Url("/fhir/Patient"),
        {"Content-Type: application/fhir+json", "If-None-Exist: identifier=urn:oid:1.1|11"},
        R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.1","value":"11"}]})");
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
    auto db = storage::Connection::Open(TestDbConninfo());
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
  }
  std::string One(const std::string& sql, const std::vector<std::string>& params = {}) {
    storage::SqlParams p;
    for (const auto& v : params) p.push_back(storage::SqlParam::Text(v));
    auto r = db_->RunDynamic(sql, p);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().message();
    if (!r.ok() || r->rows() != 1) return "<" + std::to_string(r.ok() ? r->rows() : -1) + " rows>";
    return r->GetString(0, 0);
  }
  // The DocumentReference filed for an XDS uniqueId.
  std::string DocumentOf(const std::string& unique_id) {
    return One(
        "SELECT res_id FROM resource WHERE res_type = 'DocumentReference' AND NOT deleted AND "
        "strpos(content, $1) > 0",
        {unique_id});
  }
  HttpClient client_;
  std::unique_ptr<storage::Connection> db_;
};

TEST_F(DocumentBytesTest, SameBytesAndNewMetadataVersionsAreStoredOnceAndRetrievedExactly) {
  MtomSubmission first = FreshSample();
  ASSERT_GT(first.bytes.size(), 100u);
  ASSERT_EQ(first.bytes.rfind("Four score", 0), 0u);
  const std::string sha256 = Sha256Hex(first.bytes);
  auto send = [&](const MtomSubmission& m) {
    auto r = client_.Request("POST", Url("/xds/repository"), {m.content_type}, m.body);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_NE(r.body.find("ResponseStatusType:Success"), std::string::npos) << r.body;
  };
  send(first);
  const std::string dr_id = DocumentOf(first.document_unique_id);
  auto dr = client_.Get(Url("/fhir/DocumentReference/" + dr_id));
  ASSERT_EQ(dr.status, 200) << dr.body;
  JsonValue doc = Parse(dr.body);
  const JsonValue* attachment = doc.Find("content")->items()[0].Find("attachment");
  const std::string url = attachment->GetString("url");
  ASSERT_EQ(url.rfind("Binary/", 0), 0u) << url;
  const std::string binary_id = url.substr(7);
  // What XDS publishes: the SHA-1 and size of the bytes sent.
  EXPECT_EQ(attachment->GetString("hash"), Base64Sha1(first.bytes));
  EXPECT_EQ(attachment->Find("size")->text(), std::to_string(first.bytes.size()));

  const std::string key =
      One("SELECT patient_key FROM resource WHERE res_type = 'Binary' AND "
          "res_id = $1",
          {binary_id});
  auto copies = [&] {
    return One(
        "SELECT count(*) FROM document_content WHERE patient_key = $1::bigint AND "
        "sha256 = decode($2, 'hex')",
        {key, sha256});
  };
  auto record_rows = [&] {
    return One("SELECT count(*) FROM document_content WHERE patient_key = $1::bigint", {key});
  };
  EXPECT_EQ(copies(), "1");
  // The row is the bytes, with the SHA-1 and size XDS needs.
  EXPECT_EQ(One("SELECT encode(sha1, 'hex') || ' ' || size || ' ' || mime_type || ' ' || "
                "(data = decode($3, 'hex')) FROM document_content WHERE patient_key = $1::bigint "
                "AND sha256 = decode($2, 'hex')",
                {key, sha256, HexEncode(first.bytes)}),
            HexEncode(*Base64Decode(Base64Sha1(first.bytes))) + " " +
                std::to_string(first.bytes.size()) + " text/plain true");
  const std::string rows_after_first = record_rows();

  // The same bytes again, as another document: no second copy.
  MtomSubmission second = FreshSample();
  send(second);
  const std::string dr2 = DocumentOf(second.document_unique_id);
  EXPECT_NE(dr2, dr_id);
  EXPECT_EQ(copies(), "1");
  EXPECT_EQ(record_rows(), rows_after_first);

  // Two new versions of the metadata: the Binary's (its JSON, bytes unchanged) and the
  // DocumentReference's. Neither copies the bytes.
  auto fhir_binary = client_.Request("GET", Url("/fhir/Binary/" + binary_id),
                                     {"Accept: application/fhir+json"}, "");
  ASSERT_EQ(fhir_binary.status, 200) << fhir_binary.body;
  JsonValue binary = Parse(fhir_binary.body);
  EXPECT_EQ(binary.GetString("data"), Base64Encode(first.bytes));
  EXPECT_EQ(binary.GetString("contentType"), "text/plain");
  binary.Remove("meta");
  auto put = client_.Request("PUT", Url("/fhir/Binary/" + binary_id),
                             {"Content-Type: application/fhir+json"}, WriteJson(binary));
  ASSERT_EQ(put.status, 200) << put.body;
  doc.Set("description", JsonValue::String("metadata, second version"));
  doc.Remove("meta");
  auto put_doc = client_.Request("PUT", Url("/fhir/DocumentReference/" + dr_id),
                                 {"Content-Type: application/fhir+json"}, WriteJson(doc));
  ASSERT_EQ(put_doc.status, 200) << put_doc.body;
  EXPECT_EQ(copies(), "1");
  EXPECT_EQ(record_rows(), rows_after_first);
  EXPECT_EQ(One("SELECT count(*) FROM resource_history WHERE res_type = 'Binary' AND res_id = $1",
                {binary_id}),
            "2");

  // No stored JSON of these Binaries holds the bytes; each names them by hash.
  EXPECT_EQ(One("SELECT count(*) FROM resource_history WHERE res_type = 'Binary' AND "
                "(res_id = $1 OR strpos(content, $2) > 0) AND (strpos(content, '\"data\"') > 0 "
                "OR content_sha256 IS DISTINCT FROM decode($3, 'hex'))",
                {binary_id, "DocumentReference/" + dr2, sha256}),
            "0");
  EXPECT_EQ(One("SELECT count(*) FROM resource WHERE strpos(content, $1) > 0",
                {Base64Encode(first.bytes).substr(0, 40)}),
            "0");

  // Retrieval: ITI-43 (MTOM), the Binary read as itself (ITI-68) and as FHIR, and a vread.
  auto ret =
      client_.Request("POST", Url("/xds/repository"), {kSoap},
                      RetrieveRequest("1.3.6.1.4.1.21367.2017.2.5.84", first.document_unique_id));
  ASSERT_EQ(ret.status, 200) << ret.body.substr(0, 1500);
  EXPECT_NE(ret.body.find("ResponseStatusType:Success"), std::string::npos)
      << ret.body.substr(0, 1500);
  EXPECT_NE(ret.body.find(first.bytes), std::string::npos) << ret.body.substr(0, 1500);
  auto native = client_.Get(Url("/fhir/" + url));
  ASSERT_EQ(native.status, 200);
  EXPECT_EQ(native.body, first.bytes);
  EXPECT_EQ(Base64Sha1(native.body), attachment->GetString("hash"));
  auto v1 = client_.Request("GET", Url("/fhir/Binary/" + binary_id + "/_history/1"),
                            {"Accept: application/fhir+json"}, "");
  ASSERT_EQ(v1.status, 200) << v1.body;
  EXPECT_EQ(Parse(v1.body).GetString("data"), Base64Encode(first.bytes));
  auto v2 = client_.Request("GET", Url("/fhir/Binary/" + binary_id + "/_history/2"),
                            {"Accept: application/fhir+json"}, "");
  ASSERT_EQ(v2.status, 200) << v2.body;
  EXPECT_EQ(Parse(v2.body).GetString("data"), Base64Encode(first.bytes));
}

// A Binary written through FHIR with its bytes as the body: the same bytes twice are one row,
// and a Binary with other bytes is another.
TEST_F(DocumentBytesTest, NativeBinaryWritesShareIdenticalBytes) {
  auto p = client_.Request("GET", Url("/fhir/Patient?identifier=urn:oid:1.1|11"), {}, "");
  ASSERT_EQ(p.status, 200) << p.body;
  const std::string pid = Parse(p.body).Find("entry")->items()[0].Find("resource")->GetString("id");
  const std::string bytes = "%PDF-1.4 bytes once " + RandomHex(8) + std::string(1, '\0') + "\xff";
  auto post = [&](const std::string& body) {
    auto r = client_.Request("POST", Url("/fhir/Binary"),
                             {"Content-Type: application/pdf", "Accept: application/fhir+json",
                              "X-Security-Context: Patient/" + pid},
                             body);
    EXPECT_EQ(r.status, 201) << r.body;
    return Parse(r.body).GetString("id");
  };
  std::string a = post(bytes), b = post(bytes), c = post(bytes + "!");
  ASSERT_FALSE(a.empty());
  const std::string key =
      One("SELECT patient_key FROM resource WHERE res_type = 'Binary' AND res_id = $1", {a});
  ASSERT_NE(key, "");
  EXPECT_EQ(One("SELECT count(*) FROM document_content WHERE patient_key = $1::bigint AND "
                "sha256 IN (decode($2, 'hex'), decode($3, 'hex'))",
                {key, Sha256Hex(bytes), Sha256Hex(bytes + "!")}),
            "2");
  for (const std::string& id : {a, b}) {
    auto got = client_.Get(Url("/fhir/Binary/" + id));
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(got.body, bytes);
  }
  EXPECT_EQ(client_.Get(Url("/fhir/Binary/" + c)).body, bytes + "!");
}

}  // namespace
}  // namespace carnet::testing
