// Mail in (issue 17): a message handed to carnet by a mail server, through `carnet-gateway
// ingest-mail` (standard input, sysexits codes) or POST /mail/inbound (message/rfc822, the mail
// relay's system token), becomes a Communication in the record of the patient it is addressed
// to. The messages are made by Python's `email` package (tests/tools/make_mail.py), not by
// carnet. Bad mail (unknown recipient, oversize, malformed MIME, a disallowed attachment type)
// is refused with its reason and leaves nothing behind.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";
const char* kRfc822 = "Content-Type: message/rfc822";
// A PDF with binary bytes (a transfer encoding that altered them would show).
const std::string kPdf = std::string("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj <<>> endobj\n") +
                         std::string("\x00\x01\xFF\xFE", 4) + "\n%%EOF\n";

long long Count(const std::string& sql) {
  auto conn = storage::Connection::Open(TestDbConninfo());
  if (!conn.ok()) return -1;
  auto r = (*conn)->RunDynamic(sql, {});
  return r.ok() ? r->GetInt(0, 0) : -1;
}

class MailTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess({"--mail-domain", "mssante.test", "--mail-max-bytes", "20000"});
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    run_ = RandomHex(4);
    long long n = 100000000LL + std::stoll(RandomHex(6), nullptr, 16) % 800000000LL;
    ins_ = "27" + std::to_string(n) + "0033";
    pid_ = "mail-" + run_;
    dir_ = ::testing::TempDir() + "mail-" + run_;
    RunCommand("mkdir -p " + dir_);
    std::ofstream(dir_ + "/cr.pdf", std::ios::binary) << kPdf;
    std::ofstream(dir_ + "/setup.exe", std::ios::binary) << "MZ\x90";
    tokens_["operator"] = Token({"--actor", "operator", "--id", "ops-1"});
    tokens_["patient"] = Token({"--actor", "patient", "--id", "pat-" + run_, "--patient", ins_});
    tokens_["relay"] =
        Token({"--actor", "system", "--id", "mail-relay", "--client-id", "mail-relay"});
    tokens_["lab"] = Token({"--actor", "system", "--id", "lab-mail", "--client-id", "lab-mail"});
    tokens_["doctor"] = Token({"--actor", "professional", "--id", "8100000000" + run_.substr(0, 2),
                               "--profession", "10", "--org", "org-a"});
    auto r = As("operator", "PUT", "/fhir/Patient/" + pid_,
                R"({"resourceType":"Patient","id":")" + pid_ + R"(","identifier":[{"system":")" +
                    kInsSystem + R"(","value":")" + ins_ + R"("}]})",
                "Content-Type: application/fhir+json");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }

  static HttpResult As(const std::string& who, const std::string& method, const std::string& path,
                       const std::string& body, const std::string& content_type = kRfc822) {
    static HttpClient client;
    client.SetBearer(tokens_.at(who));
    return client.Request(method, gateway_->base_url() + path, {content_type}, body);
  }
  // The command line of make_mail.py writing a message to the patient (or `to`).
  static std::string MakeMail(const std::string& extra, const std::string& to = "") {
    return "python3 " CARNET_SOURCE_DIR
           "/tests/tools/make_mail.py --from "
           "'Dr Dupré <jerome.dupre@hopital.example>' --to '" +
           (to.empty() ? ins_ + "@patient.mssante.test" : to) +
           "' --subject 'Compte rendu' --text 'Voici votre compte rendu.' " + extra;
  }
  static std::string Mail(const std::string& extra, const std::string& to = "") {
    auto made = RunCommand(MakeMail(extra, to), false);
    EXPECT_EQ(made.exit_code, 0) << made.out;
    return made.out;
  }
  // How many messages the patient's record holds.
  static long long Messages() {
    auto r = As("patient", "GET", "/fhir/Communication?patient=" + pid_ + "&_total=accurate", "",
                "Accept: application/fhir+json");
    auto b = ParseJson(r.body);
    if (r.status != 200 || !b.ok() || !b->Find("total")) return -1;
    return std::stoll(b->Find("total")->text());
  }
  static std::string Ingest(const std::string& extra_flags = "") {
    return std::string(CARNET_GATEWAY_BINARY) + " ingest-mail --mail-domain mssante.test " +
           "--mail-max-bytes 20000 --db '" + TestDbConninfo() + "' " + extra_flags;
  }
  // The first attachment of the stored Communication `id`, read by the patient.
  static JsonValue Attachment(const std::string& id) {
    auto read =
        As("patient", "GET", "/fhir/Communication/" + id, "", "Accept: application/fhir+json");
    EXPECT_EQ(read.status, 200) << read.body;
    auto msg = Parse(read.body);
    const JsonValue* payload = msg.Find("payload");
    if (!payload) return {};
    for (const auto& p : payload->items())
      if (const JsonValue* a = p.Find("contentAttachment")) return *a;
    return {};
  }

  // The bytes of the first attachment of Communication `id`: a Binary of the record named by
  // url, read by the patient as itself.
  static std::string AttachmentBytes(const std::string& id) {
    std::string url = Attachment(id).GetString("url");
    EXPECT_EQ(url.rfind("Binary/", 0), 0u) << url;
    auto bytes = As("patient", "GET", "/fhir/" + url, "", "Accept: application/pdf");
    EXPECT_EQ(bytes.status, 200) << bytes.body;
    return bytes.body;
  }

  static GatewayProcess* gateway_;
  static std::map<std::string, std::string> tokens_;
  static std::string run_, ins_, pid_, dir_;
};

GatewayProcess* MailTest::gateway_ = nullptr;
std::map<std::string, std::string> MailTest::tokens_;
std::string MailTest::run_, MailTest::ins_, MailTest::pid_, MailTest::dir_;

TEST_F(MailTest, InboundMessageWithPdfBecomesACommunication) {
  long long before = Messages();
  auto r = As("relay", "POST", "/mail/inbound",
              Mail("--attach " + dir_ + "/cr.pdf:application/pdf:cr.pdf"));
  ASSERT_EQ(r.status, 201) << r.body;
  auto filed = Parse(r.body);
  ASSERT_EQ(filed.Find("filed")->items().size(), 1u);
  std::string id = filed.Find("filed")->items()[0].text().substr(strlen("Communication/"));
  EXPECT_EQ(Messages(), before + 1);

  auto read =
      As("patient", "GET", "/fhir/Communication/" + id, "", "Accept: application/fhir+json");
  ASSERT_EQ(read.status, 200) << read.body;
  auto msg = Parse(read.body);
  EXPECT_EQ(msg.Find("topic")->GetString("text"), "Compte rendu");
  EXPECT_EQ(msg.Find("sender")->GetString("display"), "jerome.dupre@hopital.example");
  EXPECT_EQ(msg.Find("subject")->GetString("reference"), "Patient/" + pid_);
  EXPECT_NE(read.body.find("Voici votre compte rendu."), std::string::npos);
  // The attachment is a Binary of the record, named by url (not inline), read as the message
  // is: by its parties (a professional outside it gets 404, as for nothing).
  JsonValue a = Attachment(id);
  EXPECT_EQ(a.GetString("contentType"), "application/pdf");
  EXPECT_EQ(a.GetString("title"), "cr.pdf");
  EXPECT_TRUE(a.GetString("data").empty()) << WriteJson(a);
  std::string url = a.GetString("url");
  EXPECT_EQ(AttachmentBytes(id), kPdf);
  auto binary = As("patient", "GET", "/fhir/" + url, "", "Accept: application/fhir+json");
  ASSERT_EQ(binary.status, 200) << binary.body;
  EXPECT_NE(binary.body.find(R"("securityContext":{"reference":"Communication/)" + id + "\""),
            std::string::npos)
      << binary.body.substr(0, 400);
  EXPECT_EQ(Count("SELECT count(*) FROM resource r JOIN patient p USING (patient_key) WHERE "
                  "r.res_type = 'Binary' AND r.res_id = '" +
                  url.substr(7) + "' AND p.resource_id = '" + pid_ + "'"),
            1);
  EXPECT_EQ(As("doctor", "GET", "/fhir/" + url, "", "Accept: application/pdf").status, 404);
  // The patient files it into the record: a document with the same bytes.
  auto to_record = As("patient", "POST", "/fhir/Communication/" + id + "/$file-attachment", "",
                      "Content-Type: application/fhir+json");
  ASSERT_EQ(to_record.status, 201) << to_record.body;
  std::string doc_url =
      Parse(to_record.body).Find("content")->items()[0].Find("attachment")->GetString("url");
  auto doc_bytes = As("patient", "GET", "/fhir/" + doc_url, "", "Accept: application/pdf");
  ASSERT_EQ(doc_bytes.status, 200) << doc_bytes.body;
  EXPECT_EQ(doc_bytes.body, kPdf);
  EXPECT_NE(to_record.body.find("\"contentType\":\"application/pdf\""), std::string::npos)
      << to_record.body;
}

TEST_F(MailTest, IngestMailCommandFilesFromStandardInput) {
  long long before = Messages();
  auto ok = RunCommand(MakeMail("--attach " + dir_ + "/cr.pdf:application/pdf") + " | " + Ingest());
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  ASSERT_NE(ok.out.find("filed Communication/"), std::string::npos) << ok.out;
  std::string id = ok.out.substr(ok.out.find("Communication/") + 14);
  id = id.substr(0, id.find('\n'));
  EXPECT_EQ(Messages(), before + 1);
  EXPECT_EQ(AttachmentBytes(id), kPdf);

  // The envelope recipient (Postfix's ${recipient}) names the record, whatever the To says.
  auto envelope = RunCommand(MakeMail("", "someone@elsewhere.example") + " | " +
                             Ingest("--recipient " + ins_ + "@patient.mssante.test"));
  EXPECT_EQ(envelope.exit_code, 0) << envelope.out;
  EXPECT_EQ(Messages(), before + 2);

  // sysexits: unknown user 67, data error 65, and 75 (retry later) when the database is away.
  auto unknown = RunCommand(MakeMail("", "2799999999999@patient.mssante.test") + " | " + Ingest());
  EXPECT_EQ(unknown.exit_code, 67) << unknown.out;
  EXPECT_NE(unknown.out.find("unknown recipient 2799999999999@patient.mssante.test"),
            std::string::npos)
      << unknown.out;
  auto exe = RunCommand(MakeMail("--attach " + dir_ + "/setup.exe:application/x-msdownload") +
                        " | " + Ingest());
  EXPECT_EQ(exe.exit_code, 65) << exe.out;
  EXPECT_NE(exe.out.find("application/x-msdownload"), std::string::npos) << exe.out;
  auto away = RunCommand(MakeMail("") + " | " + std::string(CARNET_GATEWAY_BINARY) +
                         " ingest-mail --mail-domain mssante.test --db 'host=/nonexistent-" + run_ +
                         " dbname=carnet user=carnet connect_timeout=2'");
  EXPECT_EQ(away.exit_code, 75) << away.out;
  EXPECT_EQ(Messages(), before + 2);
}

TEST_F(MailTest, BadMailIsRefusedWithItsReasonAndLeavesNothing) {
  long long before = Messages();
  long long binaries = Count("SELECT count(*) FROM resource WHERE res_type = 'Binary'");
  struct Case {
    std::string what;
    std::string body;
    long status;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"unknown recipient", Mail("", "2799999999999@patient.mssante.test"), 404,
       "unknown recipient 2799999999999@patient.mssante.test"},
      // All or nothing: the first recipient's message is not kept when the second is unknown.
      {"known then unknown recipient",
       Mail("", ins_ + "@patient.mssante.test' --to '2799999999998@patient.mssante.test"), 404,
       "unknown recipient 2799999999998@patient.mssante.test"},
      // ... nor its attachments, stored as Binaries before the second recipient is refused.
      {"known then unknown recipient, with an attachment",
       Mail("--attach " + dir_ + "/cr.pdf:application/pdf:cr.pdf",
            ins_ + "@patient.mssante.test' --to '2799999999997@patient.mssante.test"),
       404, "unknown recipient 2799999999997@patient.mssante.test"},
      {"no patient address", Mail("", "dr.house@medecin.mssante.test"), 404,
       "no recipient of the message is a patient address"},
      {"oversize", Mail("--pad 30000"), 413, "more than the 20000 accepted"},
      {"disallowed attachment type",
       Mail("--attach " + dir_ + "/setup.exe:application/x-msdownload"), 415,
       "attachment type application/x-msdownload (setup.exe) is not allowed"},
      {"malformed MIME",
       "From: a@b.example\r\nTo: " + ins_ +
           "@patient.mssante.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
           "--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n",
       400, "malformed MIME"},
      {"not a message", "just some words\n", 400, "malformed MIME"},
  };
  for (const auto& c : cases) {
    auto r = As("relay", "POST", "/mail/inbound", c.body);
    EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body;
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << c.what << ": " << r.body;
    EXPECT_NE(r.body.find(c.reason), std::string::npos) << c.what << ": " << r.body;
  }
  // Not the relay's door for anyone else, and only for a message.
  auto doctor = As("doctor", "POST", "/mail/inbound", Mail(""));
  EXPECT_EQ(doctor.status, 403) << doctor.body;
  auto lab = As("lab", "POST", "/mail/inbound", Mail(""));
  EXPECT_EQ(lab.status, 403) << lab.body;
  EXPECT_NE(lab.body.find("client mail-relay"), std::string::npos) << lab.body;
  auto json = As("relay", "POST", "/mail/inbound", Mail(""), "Content-Type: application/json");
  EXPECT_EQ(json.status, 415) << json.body;
  auto get = As("relay", "GET", "/mail/inbound", "");
  EXPECT_EQ(get.status, 405) << get.body;
  HttpClient nobody;
  nobody.SetBearer("");
  auto anonymous =
      nobody.Request("POST", gateway_->base_url() + "/mail/inbound", {kRfc822}, Mail(""));
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  EXPECT_EQ(Messages(), before);
  EXPECT_EQ(Count("SELECT count(*) FROM resource WHERE res_type = 'Binary'"), binaries)
      << "no orphan Binary";
}

}  // namespace
}  // namespace carnet::testing
