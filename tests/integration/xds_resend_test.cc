// Issue 19, "Refusals a helpdesk can explain": an ITI-41 resent after a timeout. The same
// submission, byte for byte, is answered Success and nothing is stored twice, whether the
// resend follows the first or races it; the same SubmissionSet uniqueId with other content is
// XDSDuplicateUniqueIdInRegistry (or XDSNonIdenticalHash), never an internal error. And an XDS
// patient id under an assigning authority the registry does not know is XDSUnknownPatientId
// naming the OID, in ITI-41 and ITI-18. Real MTOM bytes: the sample message of
// ../shared/testdata/xds/messages/http-mtom-pnr.txt with fresh ids.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

MtomSubmission FreshSample() { return FreshSampleMtom("19"); }

class XdsResendTest : public SharedGatewayTest {
 protected:
  std::string Url(const std::string& path) { return gateway_->base_url() + path; }
  void SetUp() override {
    auto r = client_.Request(
        "POST", Url("/fhir/Patient"),
        {"Content-Type: application/fhir+json", "If-None-Exist: identifier=urn:oid:1.1|11"},
        R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.1","value":"11"}]})");
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
  }
  HttpResult Send(HttpClient& c, const MtomSubmission& m) {
    return c.Request("POST", Url("/xds/repository"), {m.content_type}, m.body);
  }
  // How many DocumentEntries of patient 11 carry `unique_id` (ITI-18 FindDocuments).
  size_t Registered(const std::string& unique_id) {
    auto q = client_.Request("POST", Url("/xds/registry"), {kSoap},
                             FindDocumentsRequest("11^^^&amp;1.1&amp;ISO"));
    EXPECT_NE(q.body.find("ResponseStatusType:Success"), std::string::npos) << q.body;
    size_t n = 0;
    std::string needle = "value=\"" + unique_id + "\"";
    for (size_t at = q.body.find(needle); at != std::string::npos; at = q.body.find(needle, at + 1))
      ++n;
    return n;
  }
  // The DocumentReferences and SubmissionSet Lists filed for these uniqueIds (FHIR).
  long Filed(const std::string& query) {
    auto r = client_.Get(Url(query + "&_summary=count"));
    EXPECT_EQ(r.status, 200) << r.body;
    JsonValue bundle = Parse(r.body);
    const JsonValue* total = bundle.Find("total");
    return total ? std::stol(total->text()) : -1;
  }
  static bool Success(const HttpResult& r) {
    return r.status == 200 && r.body.find("ResponseStatusType:Success") != std::string::npos &&
           r.body.find("RegistryError ") == std::string::npos;
  }
  // A refusal the standard names for a reused uniqueId; never an internal or busy error.
  static void ExpectDuplicateRefusal(const HttpResult& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("ResponseStatusType:Failure"), std::string::npos) << r.body;
    EXPECT_TRUE(r.body.find("XDSDuplicateUniqueIdInRegistry") != std::string::npos ||
                r.body.find("XDSNonIdenticalHash") != std::string::npos)
        << r.body;
    EXPECT_EQ(r.body.find("XDSRegistryError"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("XDSRegistryBusy"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("XDSRepositoryError"), std::string::npos) << r.body;
  }
  HttpClient client_;
};

TEST_F(XdsResendTest, IdenticalResendIsSuccessAndStoresNothingTwice) {
  MtomSubmission m = FreshSample();
  auto first = Send(client_, m);
  ASSERT_TRUE(Success(first)) << first.body;
  auto again = Send(client_, m);
  EXPECT_TRUE(Success(again)) << again.body;
  // A retry often renews the envelope: another MessageID, the same submission.
  MtomSubmission renewed = m;
  ReplaceAll(renewed.body, "urn:uuid:3D4B161591CD1DEC0C1286850962146", "urn:uuid:" + NewUuid());
  auto third = Send(client_, renewed);
  EXPECT_TRUE(Success(third)) << third.body;
  EXPECT_EQ(Registered(m.document_unique_id), 1u);
  EXPECT_EQ(Filed("/fhir/DocumentReference?identifier=urn:oid:" + m.document_unique_id), 1);
  EXPECT_EQ(Filed("/fhir/List?identifier=urn:oid:" + m.set_unique_id), 1);
}

TEST_F(XdsResendTest, SameSetUniqueIdWithOtherContentIsRefused) {
  MtomSubmission m = FreshSample();
  ASSERT_TRUE(Success(Send(client_, m)));
  // Other document bytes (same length), every id as before.
  MtomSubmission other_bytes = m;
  ASSERT_NE(other_bytes.body.find("Four score"), std::string::npos);
  ReplaceAll(other_bytes.body, "Four score", "Five score");
  auto r = Send(client_, other_bytes);
  ExpectDuplicateRefusal(r);
  EXPECT_NE(r.body.find(m.set_unique_id), std::string::npos) << r.body;
  // Other metadata (a title), same bytes.
  MtomSubmission other_title = m;
  ASSERT_NE(other_title.body.find("value=\"DocA\""), std::string::npos);
  ReplaceAll(other_title.body, "value=\"DocA\"", "value=\"DocB\"");
  ExpectDuplicateRefusal(Send(client_, other_title));
  EXPECT_EQ(Registered(m.document_unique_id), 1u);
  auto ret =
      client_.Request("POST", Url("/xds/repository"), {kSoap},
                      RetrieveRequest("1.3.6.1.4.1.21367.2017.2.5.84", m.document_unique_id));
  EXPECT_NE(ret.body.find("Four score"), std::string::npos);
  EXPECT_EQ(ret.body.find("Five score"), std::string::npos);
}

TEST_F(XdsResendTest, ConcurrentIdenticalResendsAreAllSuccess) {
  MtomSubmission m = FreshSample();
  constexpr int kSenders = 4;
  std::vector<HttpResult> results(kSenders);
  std::vector<std::thread> senders;
  for (int i = 0; i < kSenders; ++i)
    senders.emplace_back([&, i] {
      HttpClient c;
      results[i] = Send(c, m);
    });
  for (auto& t : senders) t.join();
  for (const auto& r : results) EXPECT_TRUE(Success(r)) << r.status << " " << r.body;
  EXPECT_EQ(Registered(m.document_unique_id), 1u);
  EXPECT_EQ(Filed("/fhir/List?identifier=urn:oid:" + m.set_unique_id), 1);
}

TEST_F(XdsResendTest, ConcurrentDifferentContentOneWinsOtherIsDuplicate) {
  MtomSubmission a = FreshSample();
  MtomSubmission b = a;
  ReplaceAll(b.body, "Four score", "Five score");
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {  // fresh ids each round
      a = FreshSample();
      b = a;
      ReplaceAll(b.body, "Four score", "Five score");
    }
    HttpResult ra, rb;
    std::thread ta([&] {
      HttpClient c;
      ra = Send(c, a);
    });
    std::thread tb([&] {
      HttpClient c;
      rb = Send(c, b);
    });
    ta.join();
    tb.join();
    EXPECT_NE(Success(ra), Success(rb)) << ra.body << "\n---\n" << rb.body;
    ExpectDuplicateRefusal(Success(ra) ? rb : ra);
    EXPECT_EQ(Registered(a.document_unique_id), 1u);
  }
}

TEST_F(XdsResendTest, UnknownAssigningAuthorityIsNamed) {
  // ITI-41: the sample under an OID no record uses.
  MtomSubmission m = FreshSample();
  std::string oid = "1.2.250.1.999.404." + std::to_string(std::stoll(RandomHex(3), nullptr, 16));
  ReplaceAll(m.body, "11^^^&amp;1.1&amp;ISO", "11^^^&amp;" + oid + "&amp;ISO");
  auto r = Send(client_, m);
  EXPECT_NE(r.body.find("ResponseStatusType:Failure"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("XDSUnknownPatientId"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("assigning authority " + oid), std::string::npos) << r.body;
  // ITI-18: the same.
  auto q = client_.Request("POST", Url("/xds/registry"), {kSoap},
                           FindDocumentsRequest("11^^^&amp;" + oid + "&amp;ISO"));
  EXPECT_NE(q.body.find("ResponseStatusType:Failure"), std::string::npos) << q.body;
  EXPECT_NE(q.body.find("XDSUnknownPatientId"), std::string::npos) << q.body;
  EXPECT_NE(q.body.find("assigning authority " + oid), std::string::npos) << q.body;
  // A known authority with an unknown patient: no OID complaint; ITI-41 says no record, ITI-18
  // answers empty (as for a record the caller may not see).
  MtomSubmission known = FreshSample();
  ReplaceAll(known.body, "11^^^&amp;1.1&amp;ISO", "99404^^^&amp;1.1&amp;ISO");
  auto k = Send(client_, known);
  EXPECT_NE(k.body.find("XDSUnknownPatientId"), std::string::npos) << k.body;
  EXPECT_EQ(k.body.find("assigning authority"), std::string::npos) << k.body;
  auto kq = client_.Request("POST", Url("/xds/registry"), {kSoap},
                            FindDocumentsRequest("99404^^^&amp;1.1&amp;ISO"));
  EXPECT_NE(kq.body.find("ResponseStatusType:Success"), std::string::npos) << kq.body;
  // The national identity's OIDs are always known.
  auto ins =
      client_.Request("POST", Url("/xds/registry"), {kSoap},
                      FindDocumentsRequest("1234567890123^^^&amp;1.2.250.1.213.1.4.10&amp;ISO"));
  EXPECT_NE(ins.body.find("ResponseStatusType:Success"), std::string::npos) << ins.body;
}

}  // namespace
}  // namespace carnet::testing
