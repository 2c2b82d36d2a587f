// Secure messaging (issue 17): messages are FHIR Communications filed in the patient's
// record, sent and read by their parties only, through the one policy decision point, against
// the real gateway and PostgreSQL. A professional of the care team writes to the patient (the
// patient is notified), the patient answers; refused senders (a blocked professional, one
// outside the care team, an insurer; the patient writing to a stranger); a guardian's view of
// a child's messages; a non-party reads 404 and searches nothing; an emergency access does not
// open the mailbox.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "base/http.h"
#include "base/json.h"
#include "base/strings.h"
#include "mapping/cda_header.h"
#include "mapping/document_entry.h"
#include "mapping/xds_metadata.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kRpps = "urn:oid:1.2.250.1.71.4.2.1";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";

long long Count(const std::string& sql) {
  auto conn = storage::Connection::Open(TestDbConninfo());
  if (!conn.ok()) return -1;
  auto r = (*conn)->RunDynamic(sql, {});
  return r.ok() ? r->GetInt(0, 0) : -1;
}

class MessagingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The patient's "messages" notification goes out through a real local SMTP server.
    maildir_ = ::testing::TempDir() + "/carnet-msg-mail-" + RandomHex(4);
    int smtp_port = FreePort();
    smtp_ = new Subprocess({"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l",
                            "127.0.0.1:" + std::to_string(smtp_port), "-c",
                            "aiosmtpd.handlers.Mailbox", maildir_});
    ASSERT_TRUE(WaitForPort(smtp_port)) << "aiosmtpd did not start";
    gateway_ = new GatewayProcess({"--mail-domain", "mssante.test", "--smtp-url",
                                   "smtp://127.0.0.1:" + std::to_string(smtp_port),
                                   "--outbox-poll-ms", "200"});
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    run_ = RandomHex(4);
    long long n = 100000000LL + std::stoll(RandomHex(6), nullptr, 16) % 800000000LL;
    ins_ = "27" + std::to_string(n) + "0011";
    child_ins_ = "16" + std::to_string(n) + "0022";
    pid_ = "msg-" + run_;
    child_ = "msgc-" + run_;
    std::string rpps_base = "81" + std::to_string(n).substr(0, 8);
    doctor_ = rpps_base + "01";
    colleague_ = rpps_base + "02";
    blocked_ = rpps_base + "03";
    outsider_ = rpps_base + "09";
    tokens_["operator"] = Token({"--actor", "operator", "--id", "ops-1"});
    tokens_["patient"] = Token({"--actor", "patient", "--id", "pat-" + run_, "--patient", ins_});
    tokens_["guardian"] =
        Token({"--actor", "guardian", "--id", "guard-" + run_, "--guardian-of", child_ins_});
    tokens_["doctor"] = Token({"--actor", "professional", "--id", doctor_, "--profession", "10",
                               "--org", "org-a", "--given", "Jérôme", "--family", "Dupré"});
    tokens_["colleague"] = Token({"--actor", "professional", "--id", colleague_, "--profession",
                                  "10", "--org", "org-a", "--given", "Anne", "--family", "Martin"});
    tokens_["blocked"] = Token(
        {"--actor", "professional", "--id", blocked_, "--profession", "10", "--org", "org-a"});
    tokens_["outsider"] = Token(
        {"--actor", "professional", "--id", outsider_, "--profession", "10", "--org", "org-x"});
    tokens_["emergency"] =
        Token({"--actor", "professional", "--id", rpps_base + "07", "--profession", "10", "--org",
               "org-b", "--emergency", "Patient inconscient, urgences"});
    tokens_["insurer"] = Token({"--actor", "insurer", "--id", "mutuelle-1"});
    tokens_["lab"] = Token({"--actor", "system", "--id", "lab-msg", "--client-id", "lab-msg"});

    for (auto [id, ins] : {std::pair{pid_, ins_}, std::pair{child_, child_ins_}})
      Must(As("operator", "PUT", "/fhir/Patient/" + id,
              R"({"resourceType":"Patient","id":")" + id + R"(","identifier":[{"system":")" +
                  kInsSystem + R"(","value":")" + ins + R"("}]})"),
           201, "record");
    auto member = [](const std::string& rpps) {
      return R"({"member":{"identifier":{"system":")" + std::string(kRpps) + R"(","value":")" +
             rpps + R"("}}})";
    };
    Must(As("patient", "POST", "/fhir/CareTeam",
            R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" +
                pid_ + R"("},"participant":[)" + member(doctor_) + "," + member(colleague_) + "," +
                member(blocked_) + "]}"),
         201, "care team");
    Must(As("guardian", "POST", "/fhir/CareTeam",
            R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" +
                child_ + R"("},"participant":[)" + member(doctor_) + "]}"),
         201, "child's care team");
    Must(
        As("patient", "POST", "/fhir/Patient/" + pid_ + "/$block",
           R"({"resourceType":"Parameters","parameter":[{"name":"kind","valueString":"professional"},
              {"name":"actor","valueString":")" +
               blocked_ + R"("}]})"),
        200, "block");
    Must(As("patient", "POST", "/fhir/Patient/" + pid_ + "/$notification-preferences",
            R"({"resourceType":"Parameters","parameter":[{"name":"channel","valueString":"email"},
              {"name":"event","valueString":"messages"},{"name":"enabled","valueBoolean":true},
              {"name":"address","valueString":"me@example.org"}]})"),
         200, "opt in to message notifications");
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
    delete smtp_;
    smtp_ = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(maildir_, ec);
  }
  // The mails the local SMTP server received, each as its path and raw text. A maildir
  // writes a mail into tmp/ and then moves it whole into new/: what tmp/ holds may be partial.
  static std::vector<std::pair<std::string, std::string>> MailFiles() {
    std::vector<std::pair<std::string, std::string>> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(maildir_, ec)) {
      if (!e.is_regular_file() || e.path().parent_path().filename() == "tmp") continue;
      std::ifstream in(e.path());
      std::stringstream text;
      text << in.rdbuf();
      out.emplace_back(e.path().string(), text.str());
    }
    return out;
  }
  static std::vector<std::string> Mails() {
    std::vector<std::string> out;
    for (auto& [path, text] : MailFiles()) out.push_back(std::move(text));
    return out;
  }
  // The outbound mails queued for `address` (outbox channel mail-out).
  static long long OutboundMails(const std::string& address) {
    return Count("SELECT count(*) FROM outbox WHERE channel = 'mail-out' AND destination = '" +
                 address + "'");
  }
  // The file of a received mail that contains `text`, waited for up to 10 s ("" if none came).
  static std::string MailFile(const std::string& text) {
    for (int i = 0; i < 100; ++i) {
      for (const auto& [path, mail] : MailFiles())
        if (mail.find(text) != std::string::npos) return path;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
  }

  static HttpResult As(const std::string& who, const std::string& method, const std::string& path,
                       const std::string& body = "", const std::string& content_type = kJson) {
    static HttpClient client;
    client.SetBearer(tokens_.at(who));
    return client.Request(method, gateway_->base_url() + path, {content_type}, body);
  }
  // The messages of the record the caller may read, as a searchset.
  static JsonValue Messages(const std::string& who, const std::string& record) {
    return Parse(As(who, "GET", "/fhir/Communication?patient=" + record + "&_total=accurate").body);
  }
  static void Must(const HttpResult& r, long status, const std::string& what) {
    ASSERT_EQ(r.status, status) << what << ": " << r.body.substr(0, 800);
  }
  static std::string Professional(const std::string& rpps, const std::string& display) {
    return R"({"identifier":{"system":")" + std::string(kRpps) + R"(","value":")" + rpps +
           R"("},"display":")" + display + R"("})";
  }
  static std::string PatientRef(const std::string& id) {
    return R"({"reference":"Patient/)" + id + R"("})";
  }
  // A message in `record` from `sender` to `recipients` (JSON references).
  static std::string Message(const std::string& record, const std::string& sender,
                             const std::string& recipients, const std::string& text,
                             const std::string& extra = "") {
    return R"({"resourceType":"Communication","status":"completed","subject":)" +
           PatientRef(record) + R"(,"sender":)" + sender + R"(,"recipient":[)" + recipients +
           R"(],"topic":{"text":"Résultats"},"payload":[{"contentString":")" + text + R"("}])" +
           extra + "}";
  }
  static long long Total(const HttpResult& r) {
    auto b = ParseJson(r.body);
    if (!b.ok()) return -1;
    const JsonValue* t = b->Find("total");
    return t ? std::stoll(t->text()) : -1;
  }
  static std::string Address(const JsonValue& ref) {
    const JsonValue* ext = ref.Find("extension");
    if (!ext || !ext->is_array()) return "";
    for (const auto& e : ext->items())
      if (const JsonValue* cp = e.Find("valueContactPoint")) return cp->GetString("value");
    return "";
  }
  // The doctor's first message to the patient, sent once for the suite.
  static const std::string& FirstMessage() {
    static std::string id;
    if (id.empty()) {
      auto r = As("doctor", "POST", "/fhir/Communication",
                  Message(pid_, Professional(doctor_, "Dr Jérôme Dupré"), PatientRef(pid_),
                          "Vos résultats sont normaux."));
      EXPECT_EQ(r.status, 201) << r.body;
      auto b = ParseJson(r.body);
      if (b.ok()) id = b->GetString("id");
    }
    return id;
  }

  static GatewayProcess* gateway_;
  static Subprocess* smtp_;
  static std::string maildir_;
  static std::map<std::string, std::string> tokens_;
  static std::string run_, ins_, child_ins_, pid_, child_, doctor_, colleague_, blocked_, outsider_;
};

GatewayProcess* MessagingTest::gateway_ = nullptr;
Subprocess* MessagingTest::smtp_ = nullptr;
std::string MessagingTest::maildir_;
std::map<std::string, std::string> MessagingTest::tokens_;
std::string MessagingTest::run_, MessagingTest::ins_, MessagingTest::child_ins_,
    MessagingTest::pid_, MessagingTest::child_, MessagingTest::doctor_, MessagingTest::colleague_,
    MessagingTest::blocked_, MessagingTest::outsider_;

TEST_F(MessagingTest, ProfessionalWritesPatientReadsAndAnswers) {
  long long key = Count("SELECT patient_key FROM patient WHERE resource_id = '" + pid_ + "'");
  long long queued_before =
      Count("SELECT count(*) FROM outbox WHERE event_kind = 'messages' AND patient_key = " +
            std::to_string(key));
  const std::string& id = FirstMessage();
  ASSERT_FALSE(id.empty());
  // The patient is told, by the channel they opted in to.
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE event_kind = 'messages' AND patient_key = " +
                  std::to_string(key)),
            queued_before + 1);
  // ... and the local SMTP server receives that notification at the patient's address; the
  // message's text stays in the record (read there, under the access rules).
  std::string mail;
  for (int i = 0; i < 100 && mail.empty(); ++i) {
    for (const std::string& m : Mails())
      if (m.find("To: me@example.org") != std::string::npos) mail = m;
    if (mail.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(mail.empty()) << "no notification mail received";
  EXPECT_EQ(mail.find("normaux"), std::string::npos) << mail;
  // The patient reads it: the parties' addresses and the sending time are carnet's.
  auto read = As("patient", "GET", "/fhir/Communication/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  auto msg = Parse(read.body);
  EXPECT_EQ(Address(*msg.Find("sender")), "jerome.dupre@medecin.mssante.test");
  EXPECT_EQ(Address(msg.Find("recipient")->items()[0]), ins_ + "@patient.mssante.test");
  EXPECT_FALSE(msg.GetString("sent").empty());
  EXPECT_EQ(Total(As("patient", "GET", "/fhir/Communication?patient=" + pid_ + "&_total=accurate")),
            1);
  // Every send and read is in the access history.
  EXPECT_GE(Count("SELECT count(*) FROM audit_event WHERE content LIKE '%Communication/" + id +
                  "%' AND actor_kind = 'patient'"),
            1);
  EXPECT_GE(Count("SELECT count(*) FROM audit_event WHERE content LIKE '%Communication/" + id +
                  "%' AND action = 'C'"),
            1);
  // The patient answers, in the thread: the doctor wrote to them, so they may write back.
  auto reply =
      As("patient", "POST", "/fhir/Communication",
         Message(pid_, PatientRef(pid_), Professional(doctor_, "Dr Jérôme Dupré"), "Merci docteur.",
                 R"(,"inResponseTo":[{"reference":"Communication/)" + id + R"("}])"));
  ASSERT_EQ(reply.status, 201) << reply.body;
  std::string reply_id = Parse(reply.body).GetString("id");
  // The doctor reads the answer; the patient's own message is no notification to them.
  EXPECT_EQ(As("doctor", "GET", "/fhir/Communication/" + reply_id).status, 200);
  EXPECT_EQ(Total(As("doctor", "GET",
                     "/fhir/Communication?subject=Patient/" + pid_ + "&_total=accurate")),
            2);
  // A message names its writer as its sender.
  auto forged = As("patient", "POST", "/fhir/Communication",
                   Message(pid_, Professional(doctor_, "x"), PatientRef(pid_), "forged"));
  EXPECT_EQ(forged.status, 403) << forged.body;
  // A sent message is not rewritten.
  EXPECT_EQ(As("doctor", "PUT", "/fhir/Communication/" + id, read.body).status, 403);
}

// A message to a professional address outside carnet goes out over SMTP (the relay, here a
// real local SMTP server) as a multipart message; parsed back, its attachment is intact.
TEST_F(MessagingTest, OutboundMailCarriesTheAttachment) {
  ASSERT_FALSE(FirstMessage().empty());  // the doctor wrote: the patient may write back
  std::string pdf =
      "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + RandomHex(16) + "\n%%EOF\n";
  std::string outside = "jerome.dupre@medecin.hopital-" + run_ + ".test";
  std::string recipient =
      R"({"identifier":{"system":")" + std::string(kRpps) + R"(","value":")" + doctor_ +
      R"("},"display":"Dr Jérôme Dupré","extension":[{"url":"https://carnet.example.org/fhir/StructureDefinition/mssante-address","valueContactPoint":{"system":"email","value":")" +
      outside + R"("}}]})";
  auto sent = As(
      "patient", "POST", "/fhir/Communication",
      R"({"resourceType":"Communication","status":"completed","subject":)" + PatientRef(pid_) +
          R"(,"sender":)" + PatientRef(pid_) + R"(,"recipient":[)" + recipient +
          R"(],"topic":{"text":"Compte rendu"},"payload":[{"contentString":"Voici mon compte rendu."},)" +
          R"({"contentAttachment":{"contentType":"application/pdf","title":"compte-rendu.pdf","data":")" +
          Base64Encode(pdf) + R"("}}]})");
  ASSERT_EQ(sent.status, 201) << sent.body;
  EXPECT_EQ(OutboundMails(outside), 1);
  std::string path = MailFile(outside);
  ASSERT_FALSE(path.empty()) << "no outbound mail received";
  // Parsed back by Python's email package: sender, text, and the attachment's bytes.
  auto parsed = RunCommand(
      "python3 -c 'import sys,email,email.policy,base64\n"
      "m=email.message_from_binary_file(open(sys.argv[1],\"rb\"),policy=email.policy.default)\n"
      "print(m.get_content_type()); print(m[\"From\"]); print(m[\"To\"])\n"
      "print(m.get_body((\"plain\",)).get_content().strip())\n"
      "for a in m.iter_attachments(): print(a.get_content_type(), a.get_filename(), "
      "base64.b64encode(a.get_payload(decode=True)).decode())' " +
          path,
      false);
  ASSERT_EQ(parsed.exit_code, 0) << parsed.out;
  EXPECT_NE(parsed.out.find("multipart/mixed\n" + ins_ + "@patient.mssante.test\n" + outside +
                            "\nVoici mon compte rendu.\n"),
            std::string::npos)
      << parsed.out;
  EXPECT_NE(parsed.out.find("application/pdf compte-rendu.pdf " + Base64Encode(pdf) + "\n"),
            std::string::npos)
      << parsed.out;
  // A message inside carnet's domain stays inside.
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE channel = 'mail-out' AND destination LIKE "
                  "'%mssante.test'"),
            0);
}

TEST_F(MessagingTest, RefusedSenders) {
  // The patient writes to the care team and to those who wrote to them, nobody else.
  auto stranger = As("patient", "POST", "/fhir/Communication",
                     Message(pid_, PatientRef(pid_), Professional(outsider_, "Dr X"), "?"));
  EXPECT_EQ(stranger.status, 403) << stranger.body;
  EXPECT_NE(stranger.body.find("care team"), std::string::npos) << stranger.body;
  // An insurer writes nothing (refused before any lookup).
  auto insurer = As("insurer", "POST", "/fhir/Communication",
                    Message(pid_, Professional("mutuelle-1", "M"), PatientRef(pid_), "offre"));
  EXPECT_EQ(insurer.status, 403) << insurer.body;
  EXPECT_NE(insurer.body.find("OperationOutcome"), std::string::npos);
  // A professional outside the care team and a blocked one do not reach the record: the
  // answer is that of a record that does not exist (it tells nothing of the patient).
  auto absent = As("outsider", "POST", "/fhir/Communication",
                   Message("no-such-record-" + run_, Professional(outsider_, "Dr X"),
                           PatientRef("no-such-record-" + run_), "bonjour"));
  ASSERT_GE(absent.status, 400);
  for (const char* who : {"outsider", "blocked"}) {
    std::string rpps = std::string(who) == "outsider" ? outsider_ : blocked_;
    auto r = As(who, "POST", "/fhir/Communication",
                Message(pid_, Professional(rpps, "Dr X"), PatientRef(pid_), "bonjour"));
    EXPECT_EQ(r.status, absent.status) << who << ": " << r.body;
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << who;
  }
  // The colleague of the care team may write, but only in their own name.
  auto as_other = As("colleague", "POST", "/fhir/Communication",
                     Message(pid_, Professional(doctor_, "Dr D"), PatientRef(pid_), "x"));
  EXPECT_EQ(as_other.status, 403) << as_other.body;
}

TEST_F(MessagingTest, OnlyThePartiesReadAMessage) {
  const std::string& id = FirstMessage();
  ASSERT_FALSE(id.empty());
  // A colleague of the care team sees the record but is no party: 404, as for nothing.
  auto hidden = As("colleague", "GET", "/fhir/Communication/" + id);
  auto absent = As("colleague", "GET", "/fhir/Communication/no-such-" + run_);
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(absent.status, 404);
  EXPECT_EQ(hidden.body.size() - id.size(), absent.body.size() - ("no-such-" + run_).size());
  EXPECT_EQ(
      Total(As("colleague", "GET", "/fhir/Communication?patient=" + pid_ + "&_total=accurate")), 0);
  // The colleague still reads the rest of the record.
  EXPECT_EQ(As("colleague", "GET", "/fhir/Patient/" + pid_).status, 200);
  // An emergency access opens the record, not the mailbox.
  EXPECT_EQ(As("emergency", "GET", "/fhir/Patient/" + pid_).status, 200);
  EXPECT_EQ(As("emergency", "GET", "/fhir/Communication/" + id).status, 404);
  EXPECT_EQ(
      Total(As("emergency", "GET", "/fhir/Communication?patient=" + pid_ + "&_total=accurate")), 0);
  // Neither an insurer nor another patient.
  EXPECT_EQ(As("insurer", "GET", "/fhir/Communication/" + id).status, 404);
  EXPECT_EQ(As("guardian", "GET", "/fhir/Communication/" + id).status, 404);
  // The sender reads their own message.
  EXPECT_EQ(As("doctor", "GET", "/fhir/Communication/" + id).status, 200);
}

TEST_F(MessagingTest, GuardianReadsAndAnswersForTheChild) {
  auto sent = As("doctor", "POST", "/fhir/Communication",
                 Message(child_, Professional(doctor_, "Dr Jérôme Dupré"), PatientRef(child_),
                         "Rappel de vaccination"));
  ASSERT_EQ(sent.status, 201) << sent.body;
  std::string id = Parse(sent.body).GetString("id");
  EXPECT_EQ(As("guardian", "GET", "/fhir/Communication/" + id).status, 200);
  EXPECT_EQ(Total(As("guardian", "GET", "/fhir/Communication?_total=accurate")), 1);
  auto reply = As("guardian", "POST", "/fhir/Communication",
                  Message(child_, PatientRef(child_), Professional(doctor_, "Dr Dupré"), "Merci",
                          R"(,"inResponseTo":[{"reference":"Communication/)" + id + R"("}])"));
  EXPECT_EQ(reply.status, 201) << reply.body;
  // The adult patient sees nothing of the child's messages.
  EXPECT_EQ(As("patient", "GET", "/fhir/Communication/" + id).status, 404);
}

TEST_F(MessagingTest, MarkReadAndFileAnAttachmentIntoTheRecord) {
  // A message with an attachment (a letter as plain text).
  std::string letter = "Compte rendu de consultation : tout va bien.";
  std::string body = Message(pid_, Professional(doctor_, "Dr Jérôme Dupré"), PatientRef(pid_),
                             "Voici le compte rendu.");
  std::string end = R"("}])";
  body.replace(body.rfind(end), end.size(),
               R"("},{"contentAttachment":{"contentType":"text/plain","title":"Compte rendu",)"
               R"("data":")" +
                   Base64Encode(letter) + R"("}}])");
  auto sent = As("doctor", "POST", "/fhir/Communication", body);
  ASSERT_EQ(sent.status, 201) << sent.body;
  std::string id = Parse(sent.body).GetString("id");
  std::string op = "/fhir/Communication/" + id;
  // $mark-read: a recipient only; the sender is told no, a non-party gets 404.
  EXPECT_EQ(As("doctor", "POST", op + "/$mark-read").status, 403);
  auto hidden = As("colleague", "POST", op + "/$mark-read");
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  EXPECT_EQ(As("colleague", "POST", "/fhir/Communication/nothing-" + run_ + "/$mark-read").status,
            404);
  auto read = As("patient", "POST", op + "/$mark-read");
  ASSERT_EQ(read.status, 200) << read.body;
  std::string received = Parse(read.body).GetString("received");
  EXPECT_FALSE(received.empty()) << read.body;
  // The first reading time stays.
  auto again = As("patient", "POST", op + "/$mark-read");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(Parse(again.body).GetString("received"), received);
  // $file-attachment: the attachment becomes the patient's document, with its bytes.
  EXPECT_EQ(As("doctor", "POST", op + "/$file-attachment").status, 403);
  EXPECT_EQ(As("colleague", "POST", op + "/$file-attachment").status, 404);
  auto none =
      As("patient", "POST", op + "/$file-attachment",
         R"({"resourceType":"Parameters","parameter":[{"name":"attachment","valueInteger":3}]})");
  EXPECT_EQ(none.status, 422) << none.body;
  auto filed = As("patient", "POST", op + "/$file-attachment");
  ASSERT_EQ(filed.status, 201) << filed.body;
  auto dr = Parse(filed.body);
  EXPECT_EQ(dr.GetString("resourceType"), "DocumentReference");
  EXPECT_NE(filed.body.find("Communication/" + id), std::string::npos) << "linked to the message";
  EXPECT_NE(filed.body.find("\"reference\":\"Patient/" + pid_), std::string::npos);
  std::string url = dr.Find("content")->items()[0].Find("attachment")->GetString("url");
  ASSERT_EQ(url.rfind("Binary/", 0), 0u) << url;
  auto bytes = As("patient", "GET", "/fhir/" + url, "", "Accept: text/plain");
  EXPECT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.body, letter);
  // A professional of the care team reads it as any document of the record.
  EXPECT_EQ(As("doctor", "GET", "/fhir/DocumentReference/" + dr.GetString("id")).status, 200);
}

TEST_F(MessagingTest, CopyToThePatientByDepositAndByIti41) {
  // $deposit with copy-to-patient=true: the lab's result reaches the patient's mailbox.
  long long count_before = std::stoll(Messages("patient", pid_).Find("total")->text());
  auto dep = As("lab", "POST",
                "/fhir/DocumentReference/$deposit?patient=" + std::string(kInsSystem) + "|" + ins_ +
                    "&type=11502-2&title=Bilan%20sanguin&copy-to-patient=true",
                "Glycemie 5.1 mmol/L", "Content-Type: text/plain");
  ASSERT_EQ(dep.status, 201) << dep.body;
  std::string doc = Parse(dep.body).GetString("id");
  auto after = Messages("patient", pid_);
  ASSERT_EQ(std::stoll(after.Find("total")->text()), count_before + 1) << WriteJson(after);
  std::string copy;
  for (const auto& e : after.Find("entry")->items())
    if (WriteJson(e).find("DocumentReference/" + doc) != std::string::npos) copy = WriteJson(e);
  ASSERT_FALSE(copy.empty()) << WriteJson(after);
  EXPECT_NE(copy.find(Base64Encode("Glycemie 5.1 mmol/L")), std::string::npos) << copy;
  EXPECT_NE(copy.find("Bilan sanguin"), std::string::npos) << copy;
  // Without it, no message; a bad value is refused.
  ASSERT_EQ(As("lab", "POST",
               "/fhir/DocumentReference/$deposit?patient=" + std::string(kInsSystem) + "|" + ins_ +
                   "&type=11502-2",
               "Glycemie 5.0 mmol/L", "Content-Type: text/plain")
                .status,
            201);
  EXPECT_EQ(std::stoll(Messages("patient", pid_).Find("total")->text()), count_before + 1);
  EXPECT_EQ(As("lab", "POST",
               "/fhir/DocumentReference/$deposit?patient=" + std::string(kInsSystem) + "|" + ins_ +
                   "&type=11502-2&copy-to-patient=yes",
               "x", "Content-Type: text/plain")
                .status,
            400);
  // The doctor of the care team is no party to the lab's copy.
  EXPECT_EQ(WriteJson(Messages("doctor", pid_)).find("DocumentReference/" + doc),
            std::string::npos);

  // ITI-41 with the slot urn:carnet:copyToPatient on the DocumentEntry.
  std::ifstream in(std::string(CARNET_SOURCE_DIR) +
                   "/../shared/testdata/cda/ci-sis/BIO-CR-BIO_2024.01_TSH_1.xml");
  std::stringstream ss;
  ss << in.rdbuf();
  auto header = mapping::ReadCdaHeader(ss.str());
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  xds::DocumentEntry e = header->entry;
  std::string text = "TSH 1.2 mUI/L";
  e.id = "urn:uuid:" + NewUuid();
  e.unique_id = "1.2.250.1.999.17." + std::to_string(std::stoll(RandomHex(6), nullptr, 16));
  e.mime_type = "text/plain";
  e.format_code = {"urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3",
                   "Format from mimeType", ""};
  e.hash.clear();
  e.size.clear();
  e.patient_id = ins_ + "^^^&1.2.250.1.213.1.4.10&ISO";
  e.source_patient_id = e.patient_id;
  e.repository_unique_id = "1.3.6.1.4.1.21367.2017.2.5.84";
  e.other_slots.push_back({"urn:carnet:copyToPatient", {"true"}});
  HttpClient client;
  client.SetBearer(tokens_.at("lab"));
  auto pnr = client.Request("POST", gateway_->base_url() + "/xds/repository",
                            {"Content-Type: application/soap+xml; charset=UTF-8"},
                            ProvideAndRegisterRequest(e, text));
  ASSERT_NE(pnr.body.find("ResponseStatusType:Success"), std::string::npos)
      << pnr.body.substr(0, 1500);
  auto after_pnr = Messages("patient", pid_);
  EXPECT_EQ(std::stoll(after_pnr.Find("total")->text()), count_before + 2);
  EXPECT_NE(WriteJson(after_pnr).find(Base64Encode(text)), std::string::npos);
}

TEST_F(MessagingTest, CopyToThePatientByFhirCreateAndByMhd) {
  const std::string ext =
      R"({"url":"https://carnet.example.org/fhir/StructureDefinition/copy-to-patient",)";
  long long count_before = std::stoll(Messages("patient", pid_).Find("total")->text());
  // A FHIR create of a DocumentReference carrying the extension, content inline.
  auto dr_json = [&](const std::string& flag, const std::string& text) {
    return R"({"resourceType":"DocumentReference","status":"current",)"
           R"("extension":[)" +
           ext + flag +
           R"(}],"type":{"coding":[{"system":"http://loinc.org","code":"11502-2"}],)"
           R"("text":"Bilan lipidique"},"subject":{"reference":"Patient/)" +
           pid_ + R"("},"content":[{"attachment":{"contentType":"text/plain","data":")" +
           Base64Encode(text) + R"("}}]})";
  };
  auto created =
      As("lab", "POST", "/fhir/DocumentReference", dr_json(R"("valueBoolean":true)", "LDL 1.1 g/L"),
         "Content-Type: application/fhir+json");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string doc = Parse(created.body).GetString("id");
  auto after = Messages("patient", pid_);
  ASSERT_EQ(std::stoll(after.Find("total")->text()), count_before + 1) << WriteJson(after);
  std::string copy;
  for (const auto& e : after.Find("entry")->items())
    if (WriteJson(e).find("DocumentReference/" + doc) != std::string::npos) copy = WriteJson(e);
  ASSERT_FALSE(copy.empty()) << WriteJson(after);
  EXPECT_NE(copy.find(Base64Encode("LDL 1.1 g/L")), std::string::npos) << copy;
  EXPECT_NE(copy.find("Bilan lipidique"), std::string::npos) << copy;
  // false: no message; not a boolean: refused, nothing stored.
  ASSERT_EQ(
      As("lab", "POST", "/fhir/DocumentReference",
         dr_json(R"("valueBoolean":false)", "LDL 1.0 g/L"), "Content-Type: application/fhir+json")
          .status,
      201);
  EXPECT_EQ(std::stoll(Messages("patient", pid_).Find("total")->text()), count_before + 1);
  EXPECT_EQ(
      As("lab", "POST", "/fhir/DocumentReference", dr_json(R"("valueString":"yes")", "LDL 0.9 g/L"),
         "Content-Type: application/fhir+json")
          .status,
      422);

  // MHD ITI-65: the DocumentReference names its Binary in the same transaction; the message
  // attaches it by url (the Binary's reference once stored).
  std::ifstream in(std::string(CARNET_SOURCE_DIR) +
                   "/../shared/testdata/cda/ci-sis/BIO-CR-BIO_2024.01_TSH_1.xml");
  std::stringstream ss;
  ss << in.rdbuf();
  auto header = mapping::ReadCdaHeader(ss.str());
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  xds::DocumentEntry e = header->entry;
  e.id = "urn:uuid:" + NewUuid();
  e.unique_id = "1.2.250.1.999.18." + std::to_string(std::stoll(RandomHex(6), nullptr, 16));
  e.mime_type = "text/plain";
  e.format_code = {"urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3",
                   "Format from mimeType", ""};
  e.hash.clear();
  e.size.clear();
  e.patient_id = ins_ + "^^^&1.2.250.1.213.1.4.10&ISO";
  e.source_patient_id = e.patient_id;
  e.repository_unique_id = "1.3.6.1.4.1.21367.2017.2.5.84";
  std::string binary_full = "urn:uuid:" + NewUuid();
  JsonValue dr = mapping::DocumentReferenceFromEntry(e, "Patient/" + pid_, binary_full);
  dr.Remove("id");
  JsonValue flag = Parse(ext + R"("valueBoolean":true})");
  JsonValue exts = JsonValue::Array();
  exts.Append(std::move(flag));
  dr.Set("extension", std::move(exts));
  std::string dr_full = "urn:uuid:" + NewUuid();
  xds::SubmissionSet set;
  set.patient_id = e.patient_id;
  set.source_id = "1.2.250.1.999";
  set.submission_time = "20240102030405";
  set.content_type_code = e.class_code;
  if (!e.authors.empty()) set.authors.push_back(e.authors[0]);
  set.id = "urn:uuid:" + NewUuid();
  set.unique_id = "1.2.250.1.999.19." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  JsonValue list = mapping::ListFromSubmissionSet(set, "Patient/" + pid_, {dr_full});
  list.Remove("id");
  std::string bundle =
      R"({"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":")" +
      std::string("urn:uuid:") + NewUuid() + R"(","resource":)" + WriteJson(list) +
      R"(,"request":{"method":"POST","url":"List"}},{"fullUrl":")" + dr_full + R"(","resource":)" +
      WriteJson(dr) + R"(,"request":{"method":"POST","url":"DocumentReference"}},{"fullUrl":")" +
      binary_full + R"(","resource":{"resourceType":"Binary","contentType":"text/plain","data":")" +
      Base64Encode("TSH 2.3 mUI/L") + R"("},"request":{"method":"POST","url":"Binary"}}]})";
  auto mhd = As("lab", "POST", "/fhir", bundle, "Content-Type: application/fhir+json");
  ASSERT_EQ(mhd.status, 200) << mhd.body.substr(0, 1500);
  auto after_mhd = Messages("patient", pid_);
  ASSERT_EQ(std::stoll(after_mhd.Find("total")->text()), count_before + 2) << WriteJson(after_mhd);
  std::string mhd_copy;
  for (const auto& m : after_mhd.Find("entry")->items())
    if (WriteJson(m).find("\"url\":\"Binary/") != std::string::npos) mhd_copy = WriteJson(m);
  ASSERT_FALSE(mhd_copy.empty()) << WriteJson(after_mhd);
  // The url names the Binary stored by the transaction; the transaction gave it its
  // document as securityContext, so it is read as the document is: by its depositor and by
  // the patient, who opens what the message names; not by a professional outside the care
  // team (404, as for what does not exist).
  std::string url = mhd_copy.substr(mhd_copy.find("\"url\":\"Binary/") + 7);
  url = url.substr(0, url.find('"'));
  auto bin = As("lab", "GET", "/fhir/" + url, "", "Accept: application/fhir+json");
  ASSERT_EQ(bin.status, 200) << bin.body;
  EXPECT_NE(bin.body.find(Base64Encode("TSH 2.3 mUI/L")), std::string::npos) << bin.body;
  std::string mhd_doc;
  JsonValue mhd_answer = Parse(mhd.body);
  for (const auto& entry : mhd_answer.Find("entry")->items()) {
    std::string location = entry.Find("response")->GetString("location");
    size_t at = location.find("DocumentReference/");
    if (at != std::string::npos) mhd_doc = location.substr(at, location.find("/_history") - at);
  }
  ASSERT_FALSE(mhd_doc.empty()) << mhd.body.substr(0, 1500);
  EXPECT_NE(bin.body.find(R"("securityContext":{"reference":")" + mhd_doc + "\""),
            std::string::npos)
      << bin.body;
  auto patient_bin = As("patient", "GET", "/fhir/" + url, "", "Accept: application/fhir+json");
  ASSERT_EQ(patient_bin.status, 200) << patient_bin.body;
  EXPECT_NE(patient_bin.body.find(Base64Encode("TSH 2.3 mUI/L")), std::string::npos);
  auto patient_native = As("patient", "GET", "/fhir/" + url, "", "Accept: text/plain");
  ASSERT_EQ(patient_native.status, 200) << patient_native.body;
  EXPECT_EQ(patient_native.body, "TSH 2.3 mUI/L");
  auto stranger = As("outsider", "GET", "/fhir/" + url, "", "Accept: application/fhir+json");
  EXPECT_EQ(stranger.status, 404) << stranger.body;
  auto missing =
      As("outsider", "GET", "/fhir/Binary/" + NewUuid(), "", "Accept: application/fhir+json");
  EXPECT_EQ(missing.status, 404);

  // $file-attachment on an attachment given by url: the patient files it, the new document's
  // content holds the same bytes (a copy owned by the new document).
  std::string copy_id = Parse(mhd_copy).Find("resource")->GetString("id");
  ASSERT_FALSE(copy_id.empty()) << mhd_copy;
  std::string op = "/fhir/Communication/" + copy_id + "/$file-attachment";
  EXPECT_EQ(As("outsider", "POST", op).status, 404);
  auto filed = As("patient", "POST", op);
  ASSERT_EQ(filed.status, 201) << filed.body;
  auto filed_dr = Parse(filed.body);
  std::string filed_url = filed_dr.Find("content")->items()[0].Find("attachment")->GetString("url");
  ASSERT_EQ(filed_url.rfind("Binary/", 0), 0u) << filed.body;
  EXPECT_NE(filed_url, url);
  EXPECT_NE(filed.body.find("Communication/" + copy_id), std::string::npos) << filed.body;
  auto filed_bytes = As("patient", "GET", "/fhir/" + filed_url, "", "Accept: text/plain");
  ASSERT_EQ(filed_bytes.status, 200) << filed_bytes.body;
  EXPECT_EQ(filed_bytes.body, "TSH 2.3 mUI/L");
}

// The copy-to-patient extension is published by carnet at start-up as a StructureDefinition
// (dossier/data/): read by id and found by its canonical url by any signed-in party, and not
// written again by a gateway that starts on the same database (same version).
TEST_F(MessagingTest, CopyToPatientExtensionIsPublished) {
  const std::string url = "https://carnet.example.org/fhir/StructureDefinition/copy-to-patient";
  auto read = As("patient", "GET", "/fhir/StructureDefinition/copy-to-patient");
  ASSERT_EQ(read.status, 200) << read.body.substr(0, 600);
  JsonValue sd = Parse(read.body);
  EXPECT_EQ(sd.GetString("url"), url);
  EXPECT_EQ(sd.GetString("type"), "Extension");
  EXPECT_EQ(sd.GetString("status"), "active");
  EXPECT_NE(read.body.find("\"expression\":\"DocumentReference\""), std::string::npos);
  EXPECT_NE(read.body.find("\"code\":\"boolean\""), std::string::npos);
  std::string version = sd.Find("meta")->GetString("versionId");
  // Found by its url and by its name by every signed-in party that reads it by id: the
  // lab that asks for the copy and the operator too, whose searches across records keep to
  // their own rules on the records' rows only (it was missed by both before).
  for (const char* who : {"doctor", "patient", "lab", "operator"})
    for (const std::string& query :
         {"url=" + PercentEncode(url), std::string("name=CopyToPatient")}) {
      EXPECT_EQ(As(who, "GET", "/fhir/StructureDefinition/copy-to-patient").status, 200) << who;
      auto found = As(who, "GET", "/fhir/StructureDefinition?" + query + "&_total=accurate");
      ASSERT_EQ(found.status, 200) << who << ": " << found.body.substr(0, 600);
      EXPECT_EQ(Total(found), 1) << who << " " << query << ": " << found.body.substr(0, 600);
      EXPECT_NE(found.body.find("/StructureDefinition/copy-to-patient"), std::string::npos) << who;
    }
  // Still only what the lab deposited among the records' rows: the patient's record as seen
  // by the lab holds no resource another party wrote.
  auto others = As("lab", "GET", "/fhir/Patient?_id=" + pid_ + "&_total=accurate");
  ASSERT_EQ(others.status, 200) << others.body.substr(0, 600);
  EXPECT_EQ(Total(others), 0) << others.body.substr(0, 600);
  // A denied party finds nothing.
  auto insurer = As("insurer", "GET", "/fhir/StructureDefinition?url=" + PercentEncode(url));
  EXPECT_TRUE(insurer.status == 403 || (insurer.status == 200 && Total(insurer) <= 0))
      << insurer.status << " " << insurer.body.substr(0, 400);
  // A second gateway on the same database finds it published already.
  GatewayProcess second;
  ASSERT_TRUE(second.WaitHealthy()) << second.Log();
  EXPECT_EQ(second.Log().find("definitions_published"), std::string::npos) << second.Log();
  auto again = As("patient", "GET", "/fhir/StructureDefinition/copy-to-patient");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(Parse(again.body).Find("meta")->GetString("versionId"), version);
}

// Apps reach the mailbox only through SMART scopes on Communication, granted both by the
// token and by the patient's authorisation (Consent): with patient/Communication.rs and .c an
// app reads the patient's messages and writes to the care team in the patient's name, as the
// patient would (not to a stranger); with Observation scopes only, or scopes the patient did
// not authorise, it finds no message, reads none (404) and sends none (403).
TEST_F(MessagingTest, AppsReachTheMailboxOnlyWithCommunicationScopes) {
  std::string first = FirstMessage();
  ASSERT_FALSE(first.empty());
  auto consent = [&](const std::string& client, const std::string& scopes) {
    return R"({"resourceType":"Consent","extension":[{"url":"https://carnet.example.org/fhir/StructureDefinition/smart-scopes","valueString":")" +
           scopes +
           R"("}],"status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},)"
           R"("category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/)" +
           pid_ +
           R"("},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},)"
           R"("provision":{"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},)"
           R"("reference":{"identifier":{"system":"urn:ietf:params:oauth:client-id","value":")" +
           client + R"("}}}]}})";
  };
  const std::string mail_app = "msgapp-" + run_, obs_app = "obsapp-" + run_,
                    greedy_app = "greedyapp-" + run_;
  Must(As("patient", "POST", "/fhir/Consent",
          consent(mail_app, "patient/Communication.rs patient/Communication.c")),
       201, "mail app consent");
  Must(As("patient", "POST", "/fhir/Consent", consent(obs_app, "patient/Observation.rs")), 201,
       "observation app consent");
  Must(As("patient", "POST", "/fhir/Consent", consent(greedy_app, "patient/Observation.rs")), 201,
       "consent without messages");
  auto app_token = [&](const std::string& client, const std::string& scope) {
    return Token({"--actor", "app", "--client-id", client, "--patient", ins_, "--patient-id", pid_,
                  "--scope", scope});
  };
  tokens_["mail-app"] = app_token(mail_app, "patient/Communication.rs patient/Communication.c");
  tokens_["obs-app"] = app_token(obs_app, "patient/Observation.rs");
  // Its token asks for messages, the patient did not authorise them.
  tokens_["greedy-app"] = app_token(
      greedy_app, "patient/Observation.rs patient/Communication.rs patient/Communication.c");

  // Reading: the app with the scopes sees what the patient sees.
  long long patient_total =
      Total(As("patient", "GET", "/fhir/Communication?patient=" + pid_ + "&_total=accurate"));
  ASSERT_GT(patient_total, 0);
  auto listed = As("mail-app", "GET", "/fhir/Communication?patient=" + pid_ + "&_total=accurate");
  ASSERT_EQ(listed.status, 200) << listed.body.substr(0, 600);
  EXPECT_EQ(Total(listed), patient_total) << listed.body.substr(0, 600);
  auto read = As("mail-app", "GET", "/fhir/Communication/" + first);
  EXPECT_EQ(read.status, 200) << read.body.substr(0, 600);
  EXPECT_NE(read.body.find("Vos résultats sont normaux."), std::string::npos);
  // Without the scopes (token or Consent): nothing found, 404 by id, as for what does not
  // exist.
  for (const char* who : {"obs-app", "greedy-app"}) {
    auto none = As(who, "GET", "/fhir/Communication?patient=" + pid_ + "&_total=accurate");
    EXPECT_TRUE(none.status == 200 || none.status == 403) << who << " " << none.body;
    if (none.status == 200) {
      EXPECT_EQ(Total(none), 0) << who << " " << none.body.substr(0, 600);
    }
    auto by_id = As(who, "GET", "/fhir/Communication/" + first);
    EXPECT_EQ(by_id.status, 404) << who << " " << by_id.body;
    EXPECT_EQ(As(who, "GET", "/fhir/Communication/" + NewUuid()).status, 404) << who;
  }

  // Sending: in the patient's name to the doctor who wrote (the care team).
  std::string reply = Message(pid_, PatientRef(pid_), Professional(doctor_, "Dr Jérôme Dupré"),
                              "Réponse envoyée par mon application.");
  auto sent = As("mail-app", "POST", "/fhir/Communication", reply);
  ASSERT_EQ(sent.status, 201) << sent.body.substr(0, 800);
  std::string sent_id = Parse(sent.body).GetString("id");
  auto doctor_sees = As("doctor", "GET", "/fhir/Communication/" + sent_id);
  EXPECT_EQ(doctor_sees.status, 200) << doctor_sees.body.substr(0, 400);
  // Not to a stranger, as the patient may not.
  auto stranger = As("mail-app", "POST", "/fhir/Communication",
                     Message(pid_, PatientRef(pid_), Professional(outsider_, "Dr X"), "Bonjour"));
  EXPECT_EQ(stranger.status, 403) << stranger.body.substr(0, 400);
  // Not in another's name.
  auto forged = As("mail-app", "POST", "/fhir/Communication",
                   Message(pid_, Professional(doctor_, "Dr Jérôme Dupré"), PatientRef(pid_), "x"));
  EXPECT_EQ(forged.status, 403) << forged.body.substr(0, 400);
  // Without the c scope (token or Consent): refused, nothing stored.
  long long before = Count("SELECT count(*) FROM resource WHERE res_type = 'Communication'");
  for (const char* who : {"obs-app", "greedy-app"}) {
    auto refused = As(who, "POST", "/fhir/Communication", reply);
    EXPECT_EQ(refused.status, 403) << who << " " << refused.body.substr(0, 400);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM resource WHERE res_type = 'Communication'"), before);
}

// The tests below write messages with the colleague and the child as parties: they run after
// those that count what the colleague and the guardian see.
// An attachment given by url (a Binary of the record) goes out with its bytes, read as the
// sender reads it; a Binary the sender may not read (another record's) or that does not exist
// refuses the send alike (404), and nothing is stored or queued.
TEST_F(MessagingTest, OutboundMailCarriesAttachmentsGivenByUrl) {
  ASSERT_FALSE(FirstMessage().empty());  // the doctor wrote: the patient may write back
  // A Binary in the patient's record: a letter the doctor sent, filed by the patient.
  std::string letter = "Lettre de liaison " + RandomHex(8) + " : \xc3\xa9tat stable.";
  auto file_one = [&](const std::string& record, const std::string& who,
                      const std::string& bytes) -> std::string {
    std::string body = Message(record, Professional(doctor_, "Dr Jérôme Dupré"), PatientRef(record),
                               "Une lettre.");
    std::string end = R"("}])";
    body.replace(body.rfind(end), end.size(),
                 R"("},{"contentAttachment":{"contentType":"text/plain","title":"lettre.txt",)"
                 R"("data":")" +
                     Base64Encode(bytes) + R"("}}])");
    auto sent = As("doctor", "POST", "/fhir/Communication", body);
    EXPECT_EQ(sent.status, 201) << sent.body;
    auto filed =
        As(who, "POST",
           "/fhir/Communication/" + Parse(sent.body).GetString("id") + "/$file-attachment");
    EXPECT_EQ(filed.status, 201) << filed.body;
    auto dr = Parse(filed.body);
    const JsonValue* content = dr.Find("content");
    return content ? content->items()[0].Find("attachment")->GetString("url") : "";
  };
  std::string mine = file_one(pid_, "patient", letter);
  ASSERT_EQ(mine.rfind("Binary/", 0), 0u) << mine;
  std::string childs = file_one(child_, "guardian", "the child's letter");
  ASSERT_EQ(childs.rfind("Binary/", 0), 0u) << childs;

  std::string outside = "jerome.dupre@medecin.clinique-" + run_ + ".test";
  auto send = [&](const std::string& url) {
    std::string recipient =
        R"({"identifier":{"system":")" + std::string(kRpps) + R"(","value":")" + doctor_ +
        R"("},"extension":[{"url":"https://carnet.example.org/fhir/StructureDefinition/mssante-address","valueContactPoint":{"system":"email","value":")" +
        outside + R"("}}]})";
    return As("patient", "POST", "/fhir/Communication",
              R"({"resourceType":"Communication","status":"completed","subject":)" +
                  PatientRef(pid_) + R"(,"sender":)" + PatientRef(pid_) + R"(,"recipient":[)" +
                  recipient +
                  R"(],"topic":{"text":"Lettre"},"payload":[{"contentString":"Ci-joint."},)" +
                  R"({"contentAttachment":{"url":")" + url + R"(","title":"lettre.txt"}}]})");
  };
  long long messages_before = std::stoll(Messages("patient", pid_).Find("total")->text());
  // Another record's Binary (the patient may not read it) and no Binary at all: one answer.
  auto other = send(childs);
  auto missing = send("Binary/none-" + run_);
  EXPECT_EQ(other.status, 404) << other.body;
  EXPECT_EQ(missing.status, 404) << missing.body;
  auto strip = [](std::string body, const std::string& id) {
    for (size_t at; (at = body.find(id)) != std::string::npos;) body.replace(at, id.size(), "X");
    return body;
  };
  EXPECT_EQ(strip(other.body, childs), strip(missing.body, "Binary/none-" + run_));
  EXPECT_NE(other.body.find("contentAttachment.url"), std::string::npos) << other.body;
  EXPECT_EQ(std::stoll(Messages("patient", pid_).Find("total")->text()), messages_before);
  EXPECT_EQ(OutboundMails(outside), 0);

  // Their own record's Binary goes out, bytes, type and filename intact.
  auto sent = send(mine);
  ASSERT_EQ(sent.status, 201) << sent.body;
  EXPECT_EQ(OutboundMails(outside), 1);
  std::string path = MailFile(outside);
  ASSERT_FALSE(path.empty()) << "no outbound mail received";
  auto parsed = RunCommand(
      "python3 -c 'import sys,email,email.policy,base64\n"
      "m=email.message_from_binary_file(open(sys.argv[1],\"rb\"),policy=email.policy.default)\n"
      "for a in m.iter_attachments(): print(a.get_content_type(), a.get_filename(), "
      "base64.b64encode(a.get_payload(decode=True)).decode())' " +
          path,
      false);
  ASSERT_EQ(parsed.exit_code, 0) << parsed.out;
  EXPECT_EQ(parsed.out, "text/plain lettre.txt " + Base64Encode(letter) + "\n");
  // The sender's read of the Binary is in the access history.
  EXPECT_GE(Count("SELECT count(*) FROM audit_event WHERE content LIKE '%" + mine +
                  "%' AND actor_kind = 'patient' AND action = 'R'"),
            1);
}

// A message answers (inResponseTo) or belongs to (partOf) only a message its writer may see:
// another's message and a message that does not exist are refused alike (404, the same
// words), and nothing is stored; the writer's own thread is accepted.
TEST_F(MessagingTest, ThreadsLinkOnlyToMessagesTheWriterSees) {
  const std::string& theirs = FirstMessage();  // the doctor's to the patient
  ASSERT_FALSE(theirs.empty());
  std::string nothing = "nothing-" + run_;
  auto write = [&](const std::string& element, const std::string& target) {
    return As("colleague", "POST", "/fhir/Communication",
              Message(pid_, Professional(colleague_, "Dr Anne Martin"), PatientRef(pid_),
                      "Je reprends ce fil.",
                      ",\"" + element + "\":[{\"reference\":\"Communication/" + target + "\"}]"));
  };
  long long before = Count("SELECT count(*) FROM resource WHERE res_type = 'Communication'");
  auto strip = [](std::string body, const std::string& id) {
    for (size_t at; (at = body.find(id)) != std::string::npos;) body.replace(at, id.size(), "X");
    return body;
  };
  for (const std::string element : {"inResponseTo", "partOf"}) {
    auto other = write(element, theirs);
    auto missing = write(element, nothing);
    EXPECT_EQ(other.status, 404) << element << ": " << other.body;
    EXPECT_EQ(missing.status, 404) << element << ": " << missing.body;
    EXPECT_EQ(strip(other.body, theirs), strip(missing.body, nothing)) << element;
    EXPECT_NE(other.body.find("Communication." + element), std::string::npos) << other.body;
  }
  // The child's message is not the adult patient's to answer either.
  auto child_msg = As("doctor", "POST", "/fhir/Communication",
                      Message(child_, Professional(doctor_, "Dr Jérôme Dupré"), PatientRef(child_),
                              "Pour l'enfant"));
  ASSERT_EQ(child_msg.status, 201) << child_msg.body;
  std::string child_id = Parse(child_msg.body).GetString("id");
  auto cross =
      As("patient", "POST", "/fhir/Communication",
         Message(pid_, PatientRef(pid_), Professional(doctor_, "Dr Dupré"), "Hors fil",
                 R"(,"inResponseTo":[{"reference":"Communication/)" + child_id + R"("}])"));
  EXPECT_EQ(cross.status, 404) << cross.body;
  EXPECT_EQ(Count("SELECT count(*) FROM resource WHERE res_type = 'Communication'"), before + 1);
  // Their own thread: the colleague answers a message they wrote.
  auto own = As("colleague", "POST", "/fhir/Communication",
                Message(pid_, Professional(colleague_, "Dr Anne Martin"), PatientRef(pid_),
                        "Premier message."));
  ASSERT_EQ(own.status, 201) << own.body;
  auto follow = write("partOf", Parse(own.body).GetString("id"));
  EXPECT_EQ(follow.status, 201) << follow.body;
}

// Receipt is per recipient: one recipient's $mark-read marks the message read for them only
// (an extension on their recipient reference); `received` comes once all have read it. An
// app marks read for the patient with patient/Communication.u (token and authorisation);
// without .u it is refused.
TEST_F(MessagingTest, MarkReadIsPerRecipientAndAppsNeedTheUScope) {
  const std::string read_ext = "https://carnet.example.org/fhir/StructureDefinition/message-read";
  auto send = [&]() {
    auto sent = As("doctor", "POST", "/fhir/Communication",
                   Message(pid_, Professional(doctor_, "Dr Jérôme Dupré"),
                           PatientRef(pid_) + "," + Professional(colleague_, "Dr Anne Martin"),
                           "À vous deux."));
    EXPECT_EQ(sent.status, 201) << sent.body;
    return Parse(sent.body).GetString("id");
  };
  // The reading time on recipient i ("" when unread).
  auto read_at = [&](const JsonValue& msg, size_t i) -> std::string {
    const JsonValue* ext = msg.Find("recipient")->items()[i].Find("extension");
    if (!ext) return "";
    for (const auto& e : ext->items())
      if (e.GetString("url") == read_ext) return e.GetString("valueDateTime");
    return "";
  };
  std::string id = send();
  ASSERT_FALSE(id.empty());
  std::string op = "/fhir/Communication/" + id + "/$mark-read";
  auto by_patient = As("patient", "POST", op);
  ASSERT_EQ(by_patient.status, 200) << by_patient.body;
  JsonValue once = Parse(by_patient.body);
  std::string patient_read = read_at(once, 0);
  EXPECT_FALSE(patient_read.empty()) << by_patient.body;
  EXPECT_EQ(read_at(once, 1), "") << "the colleague has not read it";
  EXPECT_EQ(once.GetString("received"), "") << by_patient.body;
  // The colleague still sees it unread for them.
  JsonValue colleague_view = Parse(As("colleague", "GET", "/fhir/Communication/" + id).body);
  EXPECT_EQ(read_at(colleague_view, 1), "");
  EXPECT_EQ(read_at(colleague_view, 0), patient_read);
  // The colleague reads it: now everyone has, `received` is set; the patient's time stays.
  auto by_colleague = As("colleague", "POST", op);
  ASSERT_EQ(by_colleague.status, 200) << by_colleague.body;
  JsonValue both = Parse(by_colleague.body);
  EXPECT_EQ(read_at(both, 0), patient_read);
  EXPECT_FALSE(read_at(both, 1).empty());
  EXPECT_EQ(both.GetString("received"), read_at(both, 1));
  auto again = As("patient", "POST", op);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(read_at(Parse(again.body), 0), patient_read);
  // A sender cannot send a message already "read".
  std::string forged = Message(pid_, Professional(doctor_, "Dr Jérôme Dupré"),
                               R"({"reference":"Patient/)" + pid_ + R"(","extension":[{"url":")" +
                                   read_ext + R"(","valueDateTime":"2020-01-01T00:00:00Z"}]})",
                               "Déjà lu ?", R"(,"received":"2020-01-01T00:00:00Z")");
  auto pre_read = As("doctor", "POST", "/fhir/Communication", forged);
  ASSERT_EQ(pre_read.status, 201) << pre_read.body;
  EXPECT_EQ(pre_read.body.find(read_ext), std::string::npos) << pre_read.body;
  EXPECT_EQ(pre_read.body.find("2020-01-01"), std::string::npos) << pre_read.body;

  // Apps: .u (in the token and in the patient's authorisation) marks read for the patient.
  auto consent = [&](const std::string& client, const std::string& scopes) {
    return R"({"resourceType":"Consent","extension":[{"url":"https://carnet.example.org/fhir/StructureDefinition/smart-scopes","valueString":")" +
           scopes +
           R"("}],"status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},)"
           R"("category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/)" +
           pid_ +
           R"("},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},)"
           R"("provision":{"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},)"
           R"("reference":{"identifier":{"system":"urn:ietf:params:oauth:client-id","value":")" +
           client + R"("}}}]}})";
  };
  const std::string reader = "readapp-" + run_, updater = "updapp-" + run_;
  Must(As("patient", "POST", "/fhir/Consent", consent(reader, "patient/Communication.rs")), 201,
       "reader consent");
  Must(As("patient", "POST", "/fhir/Consent", consent(updater, "patient/Communication.rus")), 201,
       "updater consent");
  tokens_["read-app"] = Token({"--actor", "app", "--client-id", reader, "--patient", ins_,
                               "--patient-id", pid_, "--scope", "patient/Communication.rs"});
  tokens_["update-app"] = Token({"--actor", "app", "--client-id", updater, "--patient", ins_,
                                 "--patient-id", pid_, "--scope", "patient/Communication.rus"});
  std::string second = send();
  ASSERT_FALSE(second.empty());
  std::string op2 = "/fhir/Communication/" + second + "/$mark-read";
  auto no_u = As("read-app", "POST", op2);
  EXPECT_EQ(no_u.status, 403) << no_u.body;
  EXPECT_EQ(read_at(Parse(As("patient", "GET", "/fhir/Communication/" + second).body), 0), "");
  auto with_u = As("update-app", "POST", op2);
  ASSERT_EQ(with_u.status, 200) << with_u.body;
  JsonValue app_read = Parse(with_u.body);
  EXPECT_FALSE(read_at(app_read, 0).empty()) << with_u.body;
  EXPECT_EQ(read_at(app_read, 1), "");
  EXPECT_GE(Count("SELECT count(*) FROM audit_event WHERE content LIKE '%Communication/" + second +
                  "%' AND actor_kind = 'app' AND action = 'U'"),
            1);
}

// A guardian is a party of their own (issue 17): the RelatedPerson carnet keeps for them in
// the child's record (relationship GUARD, identifier their token's subject), found or created
// in the transaction of their first message (or when they open the mailbox). Their message is
// sent by it; the care team answers it; the guardian reads and marks read what it receives; a
// second guardian of the same child does not see it; nobody addresses a RelatedPerson of
// another record; the child's own messages stay visible to both.
TEST_F(MessagingTest, GuardianIsARelatedPersonOfTheChildsRecord) {
  const std::string kGuardianSystem =
      "https://carnet.example.org/fhir/NamingSystem/guardian-subject";
  const std::string mother_sub = "mother-" + run_, father_sub = "father-" + run_;
  tokens_["mother"] = Token({"--actor", "guardian", "--id", mother_sub, "--guardian-of", child_ins_,
                             "--given", "Claire", "--family", "Morel"});
  tokens_["father"] =
      Token({"--actor", "guardian", "--id", father_sub, "--guardian-of", child_ins_});
  auto parties_of = [&](const std::string& sub) {
    return Count(
        "SELECT count(*) FROM resource r JOIN idx_token t ON t.res_type = r.res_type AND t.res_id "
        "= r.res_id WHERE r.res_type = 'RelatedPerson' AND NOT r.deleted AND t.param = "
        "'identifier' AND t.system = '" +
        kGuardianSystem + "' AND t.code = '" + sub + "'");
  };
  auto ids_of = [](const JsonValue& bundle) {
    std::vector<std::string> ids;
    if (const JsonValue* entries = bundle.Find("entry"); entries && entries->is_array())
      for (const auto& e : entries->items())
        if (const JsonValue* r = e.Find("resource")) ids.push_back(r->GetString("id"));
    return ids;
  };
  auto has = [](const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  EXPECT_EQ(parties_of(mother_sub), 0);

  // The child's own message, from the care team's doctor: every guardian reads it.
  auto to_child = As("doctor", "POST", "/fhir/Communication",
                     Message(child_, Professional(doctor_, "Dr Jérôme Dupré"), PatientRef(child_),
                             "Le carnet de santé est à jour."));
  ASSERT_EQ(to_child.status, 201) << to_child.body;
  std::string child_message = Parse(to_child.body).GetString("id");

  // The mother writes (as the child, the way clients wrote before): the sender becomes her
  // RelatedPerson, created in that transaction.
  auto first = As("mother", "POST", "/fhir/Communication",
                  Message(child_, PatientRef(child_), Professional(doctor_, "Dr Dupré"),
                          "Faut-il un rappel avant la rentrée ?"));
  ASSERT_EQ(first.status, 201) << first.body;
  JsonValue sent = Parse(first.body);
  const JsonValue* sender = sent.Find("sender");
  ASSERT_NE(sender, nullptr) << first.body;
  std::string rp = sender->GetString("reference");
  ASSERT_EQ(rp.rfind("RelatedPerson/", 0), 0u) << first.body;
  EXPECT_EQ(sender->GetString("display"), "Claire Morel (représentant légal)");
  EXPECT_EQ(Address(*sender), "") << "a guardian is reached through carnet only";
  EXPECT_EQ(parties_of(mother_sub), 1);
  // Her RelatedPerson: in the child's record, GUARD, her subject, her name.
  auto read_rp = As("mother", "GET", "/fhir/" + rp);
  ASSERT_EQ(read_rp.status, 200) << read_rp.body;
  JsonValue person = Parse(read_rp.body);
  EXPECT_EQ(person.Find("patient")->GetString("reference"), "Patient/" + child_);
  EXPECT_NE(read_rp.body.find(R"("code":"GUARD")"), std::string::npos) << read_rp.body;
  EXPECT_NE(read_rp.body.find(mother_sub), std::string::npos) << read_rp.body;
  EXPECT_NE(read_rp.body.find("Morel"), std::string::npos) << read_rp.body;
  // A second message, naming her RelatedPerson: the same one, still once.
  auto second = As("mother", "POST", "/fhir/Communication",
                   Message(child_, R"({"reference":")" + rp + R"("})",
                           Professional(doctor_, "Dr Dupré"), "Et pour la varicelle ?"));
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(Parse(second.body).Find("sender")->GetString("reference"), rp);
  EXPECT_EQ(parties_of(mother_sub), 1);

  // The doctor reads it and answers the mother.
  std::string question = sent.GetString("id");
  EXPECT_EQ(As("doctor", "GET", "/fhir/Communication/" + question).status, 200);
  auto answer =
      As("doctor", "POST", "/fhir/Communication",
         Message(child_, Professional(doctor_, "Dr Jérôme Dupré"),
                 R"({"reference":")" + rp + R"("})", "Oui, un rappel à 6 ans.",
                 R"(,"inResponseTo":[{"reference":"Communication/)" + question + R"("}])"));
  ASSERT_EQ(answer.status, 201) << answer.body;
  std::string reply = Parse(answer.body).GetString("id");
  // An address written on a guardian's reference is refused: there is none to write.
  std::string addressed =
      R"({"reference":")" + rp +
      R"(","extension":[{"url":"https://carnet.example.org/fhir/StructureDefinition/mssante-address","valueContactPoint":{"system":"email","value":"claire.morel@example.org"}}]})";
  EXPECT_EQ(As("doctor", "POST", "/fhir/Communication",
               Message(child_, Professional(doctor_, "Dr Jérôme Dupré"), addressed, "Par mail ?"))
                .status,
            400);

  // The mother sees the answer, her questions and the child's message, and marks the answer read.
  EXPECT_EQ(As("mother", "GET", "/fhir/Communication/" + reply).status, 200);
  std::vector<std::string> hers = ids_of(Messages("mother", child_));
  EXPECT_TRUE(has(hers, reply));
  EXPECT_TRUE(has(hers, question));
  EXPECT_TRUE(has(hers, child_message));
  auto marked = As("mother", "POST", "/fhir/Communication/" + reply + "/$mark-read");
  ASSERT_EQ(marked.status, 200) << marked.body;
  EXPECT_NE(marked.body.find("message-read"), std::string::npos) << marked.body;
  EXPECT_FALSE(Parse(marked.body).GetString("received").empty()) << marked.body;
  // Not as the sender of her own question.
  EXPECT_EQ(As("mother", "POST", "/fhir/Communication/" + question + "/$mark-read").status, 403);

  // The father opens the mailbox: he becomes a party of his own, sees the child's message,
  // not what the mother and the doctor wrote to each other.
  EXPECT_EQ(parties_of(father_sub), 0);
  std::vector<std::string> his = ids_of(Messages("father", child_));
  EXPECT_EQ(parties_of(father_sub), 1);
  EXPECT_TRUE(has(his, child_message));
  EXPECT_FALSE(has(his, reply));
  EXPECT_FALSE(has(his, question));
  EXPECT_EQ(As("father", "GET", "/fhir/Communication/" + reply).status, 404);
  EXPECT_EQ(As("father", "POST", "/fhir/Communication/" + reply + "/$mark-read").status, 404);
  // He may not write as her, nor forge, change or remove her RelatedPerson.
  auto as_her = As("father", "POST", "/fhir/Communication",
                   Message(child_, R"({"reference":")" + rp + R"("})",
                           Professional(doctor_, "Dr Dupré"), "C'est moi."));
  EXPECT_EQ(as_her.status, 403) << as_her.body;
  auto forged = As("father", "POST", "/fhir/RelatedPerson",
                   R"({"resourceType":"RelatedPerson","patient":{"reference":"Patient/)" + child_ +
                       R"("},"identifier":[{"system":")" + kGuardianSystem + R"(","value":")" +
                       father_sub + R"(x"}]})");
  EXPECT_EQ(forged.status, 403) << forged.body;
  EXPECT_EQ(As("father", "DELETE", "/fhir/" + rp).status, 403);
  EXPECT_EQ(As("mother", "PUT", "/fhir/" + rp, read_rp.body).status, 403);
  // The doctor now reaches him too.
  std::string father_rp;
  {
    auto conn = storage::Connection::Open(TestDbConninfo());
    ASSERT_TRUE(conn.ok());
    auto r = (*conn)->RunDynamic(
        "SELECT t.res_id FROM idx_token t WHERE t.res_type = 'RelatedPerson' AND t.param = "
        "'identifier' AND t.system = '" +
            kGuardianSystem + "' AND t.code = '" + father_sub + "'",
        {});
    ASSERT_TRUE(r.ok() && r->rows() == 1);
    father_rp = "RelatedPerson/" + r->GetString(0, 0);
  }
  auto to_father = As("doctor", "POST", "/fhir/Communication",
                      Message(child_, Professional(doctor_, "Dr Jérôme Dupré"),
                              R"({"reference":")" + father_rp + R"("})", "Bonjour."));
  EXPECT_EQ(to_father.status, 201) << to_father.body;

  // Nobody addresses a RelatedPerson of another record: the mother's, in the adult's record.
  long long before = Count("SELECT count(*) FROM resource WHERE res_type = 'Communication'");
  auto elsewhere = As("doctor", "POST", "/fhir/Communication",
                      Message(pid_, Professional(doctor_, "Dr Jérôme Dupré"),
                              R"({"reference":")" + rp + R"("})", "Mauvais dossier."));
  EXPECT_EQ(elsewhere.status, 403) << elsewhere.body;
  EXPECT_EQ(Count("SELECT count(*) FROM resource WHERE res_type = 'Communication'"), before);
  // The adult patient sees none of it.
  EXPECT_EQ(As("patient", "GET", "/fhir/Communication/" + reply).status, 404);
}

}  // namespace
}  // namespace carnet::testing
