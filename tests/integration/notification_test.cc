// Notifications (issue 5): a new document, a professional's first access and every
// emergency access reach the patient by the channels they chose, through a real local SMTP
// server (Debian's python3-aiosmtpd) and a local webhook receiver; the outbox is durable: a
// gateway killed between the event and its delivery delivers after restart, nothing lost.
#include <gtest/gtest.h>
#include <netdb.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

namespace fs = std::filesystem;
const char* kJson = "Content-Type: application/fhir+json";

std::vector<std::string> ReadAll(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file() || e.path().extension() == ".tmp") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

// Waits until `dir` holds a file containing every one of `needles`; returns it ("" if none).
std::string WaitFor(const std::string& dir, const std::vector<std::string>& needles,
                    std::chrono::seconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& text : ReadAll(dir)) {
      bool all = true;
      for (const auto& n : needles) all = all && text.find(n) != std::string::npos;
      if (all) return text;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "";
}

long long Count(const std::string& sql) {
  auto conn = storage::Connection::Open(TestDbConninfo());
  if (!conn.ok()) return -1;
  auto r = (*conn)->RunDynamic(sql, {});
  return r.ok() ? r->GetInt(0, 0) : -1;
}

std::string Params(const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out = R"({"resourceType":"Parameters","parameter":[)";
  for (size_t i = 0; i < values.size(); ++i)
    out += std::string(i ? "," : "") + R"({"name":")" + values[i].first + R"(",)" +
           (values[i].first == "enabled" ? R"("valueBoolean":)" + values[i].second
                                         : R"("valueString":")" + values[i].second + "\"") +
           "}";
  return out + "]}";
}

// The record's care team: the professional `rpps` (a first access of theirs notifies).
std::string CareTeam(const std::string& pid, const std::string& rpps) {
  return R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" + pid +
         R"("},"participant":[{"member":{"identifier":{"value":")" + rpps + R"("}}}]})";
}

TEST(NotificationTest, DeliveredByMailAndWebhookAndNeverLost) {
  std::string run = RandomHex(4);
  std::string dir = ::testing::TempDir() + "/carnet-notify-" + run;
  std::string maildir = dir + "/mail", hooks = dir + "/hooks";
  fs::create_directories(dir);
  int smtp_port = FreePort(), hook_port = FreePort();
  // The local webhook receiver is on loopback: listed, as an operator would list it.
  std::vector<std::string> flags = {"--smtp-url",
                                    "smtp://127.0.0.1:" + std::to_string(smtp_port),
                                    "--outbox-poll-ms",
                                    "200",
                                    "--webhook-allowed-hosts",
                                    "127.0.0.1:" + std::to_string(hook_port)};
  std::string ins = "2" + std::to_string(400000000000LL + std::stoll(RandomHex(5), nullptr, 16));
  std::string pid = "ntf-" + run;
  std::string patient = Token({"--actor", "patient", "--id", "pat-" + run, "--patient", ins});
  std::string operator_token = Token({"--actor", "operator", "--id", "ops-1"});
  // A hospital system that is also the identity feed: it chooses its documents' ids.
  std::string lab = Token({"--actor", "system", "--id", "lab-ntf", "--client-id", "lab-ntf",
                           "--scope", "system/*.cruds"});
  std::string mail_to = "patient-" + run + "@example.org";

  auto gateway = std::make_unique<GatewayProcess>(flags);
  ASSERT_TRUE(gateway->WaitHealthy()) << gateway->Log();
  HttpClient client;
  auto as = [&](const std::string& token, const std::string& method, const std::string& path,
                const std::string& body = "", std::vector<std::string> headers = {kJson}) {
    client.SetBearer(token);
    return client.Request(method, gateway->base_url() + path, headers, body);
  };
  ASSERT_EQ(as(operator_token, "PUT", "/fhir/Patient/" + pid,
               R"({"resourceType":"Patient","id":")" + pid +
                   R"(","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" + ins +
                   R"("}]})")
                .status,
            201);
  // A document before any preference: e-mail is opt-in, nothing is queued.
  auto doc = [&](const std::string& id) {
    return R"({"resourceType":"DocumentReference","id":")" + id + R"(","status":"current",
      "type":{"coding":[{"system":"http://loinc.org","code":"11502-2","display":"Compte rendu de biologie"}]},
      "subject":{"reference":"Patient/)" +
           pid + R"("},
      "content":[{"attachment":{"contentType":"text/plain","data":"b2s="}}]})";
  };
  ASSERT_EQ(
      as(lab, "PUT", "/fhir/DocumentReference/ntf-" + run + "-0", doc("ntf-" + run + "-0")).status,
      201);
  std::string outbox_of =
      "SELECT count(*) FROM outbox o JOIN patient p ON p.patient_key = o.patient_key "
      "WHERE p.resource_id = '" +
      pid + "'";
  EXPECT_EQ(Count(outbox_of), 0);

  // The patient opts in: documents and emergencies by e-mail, first accesses by webhook.
  std::string p = "/fhir/Patient/" + pid + "/$notification-preferences";
  for (const char* event : {"document", "emergency"})
    ASSERT_EQ(
        as(patient, "POST", p,
           Params(
               {{"channel", "email"}, {"event", event}, {"enabled", "true"}, {"address", mail_to}}))
            .status,
        200);
  // The webhook is a FHIR Subscription (rest-hook) on the record's access history.
  auto subscription =
      as(patient, "POST", "/fhir/Subscription",
         R"({"resourceType":"Subscription","status":"requested","reason":"accès à mon dossier",
                             "criteria":"AuditEvent?patient=Patient/)" +
             pid + R"(",
                             "channel":{"type":"rest-hook","endpoint":"http://127.0.0.1:)" +
             std::to_string(hook_port) + R"(/hook","payload":"application/fhir+json"}})");
  ASSERT_EQ(subscription.status, 201) << subscription.body;
  // Someone else's subscription to this record is refused.
  EXPECT_EQ(
      as(lab, "POST", "/fhir/Subscription",
         R"({"resourceType":"Subscription","status":"requested","reason":"x","criteria":"DocumentReference?patient=)" +
             pid + R"(","channel":{"type":"rest-hook","endpoint":"http://127.0.0.1:1/x"}})")
          .status,
      403);
  // Bad preferences are refused.
  EXPECT_EQ(
      as(patient, "POST", p,
         Params({{"channel", "sms"}, {"event", "document"}, {"enabled", "true"}, {"address", "x"}}))
          .status,
      400);
  EXPECT_EQ(as(patient, "POST", p,
               Params({{"channel", "email"},
                       {"event", "document"},
                       {"enabled", "true"},
                       {"address", "not-an-address"}}))
                .status,
            400);
  // Nobody else sets them: a deposit source knows the record (403), an outsider does not (404).
  EXPECT_EQ(
      as(lab, "POST", p,
         Params(
             {{"channel", "email"}, {"event", "document"}, {"enabled", "false"}, {"address", ""}}))
          .status,
      403);
  std::string outsider = Token(
      {"--actor", "professional", "--id", "810000000019", "--profession", "10", "--org", "x"});
  EXPECT_EQ(
      as(outsider, "POST", p,
         Params(
             {{"channel", "email"}, {"event", "document"}, {"enabled", "false"}, {"address", ""}}))
          .status,
      404);

  // A document arrives while the SMTP relay is down: queued, the attempt fails...
  ASSERT_EQ(
      as(lab, "PUT", "/fhir/DocumentReference/ntf-" + run + "-1", doc("ntf-" + run + "-1")).status,
      201);
  EXPECT_EQ(Count(outbox_of + " AND o.event_kind = 'document'"), 1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Count(outbox_of + " AND o.attempts > 0") < 1 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Count(outbox_of +
                  " AND o.attempts > 0 AND o.last_error IS NOT NULL AND o.delivered_at IS NULL"),
            1);
  // ...and the gateway crashes before any retry.
  gateway->Kill();

  // The relay and the receiver come up, the gateway restarts: the notification leaves.
  Subprocess smtp({"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l",
                   "127.0.0.1:" + std::to_string(smtp_port), "-c", "aiosmtpd.handlers.Mailbox",
                   maildir});
  Subprocess receiver({"/usr/bin/python3",
                       std::string(CARNET_SOURCE_DIR) + "/tests/tools/webhook_receiver.py",
                       std::to_string(hook_port), hooks});
  ASSERT_TRUE(WaitForPort(smtp_port)) << "aiosmtpd did not start (is python3-aiosmtpd installed?)";
  ASSERT_TRUE(WaitForPort(hook_port));
  gateway = std::make_unique<GatewayProcess>(flags);
  ASSERT_TRUE(gateway->WaitHealthy()) << gateway->Log();
  std::string mail =
      WaitFor(maildir, {"To: " + mail_to, "Un nouveau document", "Compte rendu de biologie"});
  EXPECT_FALSE(mail.empty()) << "no e-mail delivered; gateway log:\n" << gateway->Log();
  EXPECT_NE(mail.find("Subject: =?UTF-8?B?"), std::string::npos) << mail;

  // A care team doctor's first access: a webhook notification (an id-only Bundle whose focus is
  // the AuditEvent); the second access notifies nothing more.
  ASSERT_EQ(as(patient, "POST", "/fhir/CareTeam", CareTeam(pid, "810000000011")).status, 201);
  std::string doctor = Token(
      {"--actor", "professional", "--id", "810000000011", "--profession", "10", "--org", "org-n"});
  ASSERT_EQ(as(doctor, "GET", "/fhir/DocumentReference/ntf-" + run + "-1").status, 200);
  ASSERT_EQ(as(doctor, "GET", "/fhir/DocumentReference/ntf-" + run + "-1").status, 200);
  std::string hook =
      WaitFor(hooks, {"\"resourceType\":\"Bundle\"", "event-notification", "AuditEvent/"});
  ASSERT_FALSE(hook.empty()) << "no webhook delivered; gateway log:\n" << gateway->Log();
  auto bundle = ParseJson(hook);
  ASSERT_TRUE(bundle.ok()) << hook;
  EXPECT_EQ(bundle->GetString("type"), "history");
  EXPECT_EQ(hook.find("b2s="), std::string::npos) << "no medical content in a notification";
  EXPECT_EQ(hook.find("Compte rendu"), std::string::npos) << "no medical content in a notification";

  // An emergency access: an e-mail with the reason.
  std::string urgent = Token({"--actor", "professional", "--id", "810000000012", "--profession",
                              "10", "--org", "samu", "--emergency", "Detresse respiratoire"});
  ASSERT_EQ(as(urgent, "GET", "/fhir/DocumentReference/ntf-" + run + "-1").status, 200);
  EXPECT_FALSE(
      WaitFor(maildir, {"To: " + mail_to, "Detresse respiratoire", "810000000012"}).empty())
      << gateway->Log();

  // Everything queued was delivered, and only once per event: one document e-mail (the
  // document before the opt-in queued nothing), one first-access webhook, the emergency by
  // both channels (the e-mail preference and the Subscription on the access history).
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Count(outbox_of + " AND o.delivered_at IS NULL") > 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Count(outbox_of + " AND o.delivered_at IS NULL"), 0);
  EXPECT_EQ(Count(outbox_of + " AND o.event_kind = 'document'"), 1);
  EXPECT_EQ(Count(outbox_of + " AND o.event_kind = 'access'"), 1);
  EXPECT_EQ(Count(outbox_of + " AND o.event_kind = 'emergency'"), 2);
  EXPECT_EQ(Count(outbox_of + " AND o.event_kind = 'emergency' AND o.channel = 'webhook'"), 1);
  fs::remove_all(dir);
}

// A name of this machine that resolves to a loopback address only (empty if none): a host
// that passes the check when it is set and must be refused after DNS at delivery.
std::string LoopbackHostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0) return "";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(name, nullptr, &hints, &found) != 0 || !found) return "";
  bool loopback = true;
  for (addrinfo* a = found; a; a = a->ai_next) {
    char text[64] = {0};
    getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
    std::string t = text;
    loopback = loopback && (t.rfind("127.", 0) == 0 || t == "::1");
  }
  freeaddrinfo(found);
  return loopback ? std::string(name) : "";
}

// Outbound calls go only where they may (issue 13): a webhook into the gateway's own network
// (loopback, private, link-local) is refused when it is set (422 naming the element), and a
// name that resolves there is refused again at delivery, unless the operator lists it.
TEST(NotificationTest, WebhookDestinationsAreCheckedWhenSetAndWhenDelivered) {
  std::string run = RandomHex(4);
  std::string hooks = ::testing::TempDir() + "/carnet-hooks-" + run;
  int hook_port = FreePort();
  Subprocess receiver({"/usr/bin/python3",
                       std::string(CARNET_SOURCE_DIR) + "/tests/tools/webhook_receiver.py",
                       std::to_string(hook_port), hooks});
  ASSERT_TRUE(WaitForPort(hook_port));
  std::string ins = "2" + std::to_string(400000000000LL + std::stoll(RandomHex(5), nullptr, 16));
  std::string pid = "hook-" + run;
  std::string patient = Token({"--actor", "patient", "--id", "pat-" + run, "--patient", ins});
  auto gateway =
      std::make_unique<GatewayProcess>(std::vector<std::string>{"--outbox-poll-ms", "200"});
  ASSERT_TRUE(gateway->WaitHealthy()) << gateway->Log();
  HttpClient client;
  auto as = [&](const std::string& token, const std::string& method, const std::string& path,
                const std::string& body = "") {
    client.SetBearer(token);
    return client.Request(method, gateway->base_url() + path, {kJson}, body);
  };
  ASSERT_EQ(as(Token({"--actor", "operator", "--id", "ops-1"}), "PUT", "/fhir/Patient/" + pid,
               R"({"resourceType":"Patient","id":")" + pid +
                   R"(","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" + ins +
                   R"("}]})")
                .status,
            201);
  auto subscription = [&](const std::string& endpoint) {
    return as(patient, "POST", "/fhir/Subscription",
              R"({"resourceType":"Subscription","status":"requested","reason":"accès",
                  "criteria":"AuditEvent?patient=Patient/)" +
                  pid + R"(",
                  "channel":{"type":"rest-hook","endpoint":")" +
                  endpoint + R"(","payload":"application/fhir+json"}})");
  };
  std::string port = std::to_string(hook_port);
  for (const std::string& endpoint :
       {std::string("http://127.0.0.1:9/sub"), "http://127.0.0.1:" + port + "/hook",
        std::string("http://169.254.169.254/latest/meta-data"), "http://[::1]:" + port + "/hook",
        "http://localhost:" + port + "/hook", std::string("https://10.1.2.3/x"),
        std::string("http://192.168.0.10/x"), std::string("http://172.16.5.4/x"),
        "http://0.0.0.0:" + port + "/hook", "http://[::ffff:127.0.0.1]:" + port + "/hook",
        std::string("http://[fd00::1]/x"), std::string("http://[fe80::1]/x")}) {
    auto r = subscription(endpoint);
    EXPECT_EQ(r.status, 422) << endpoint << ": " << r.body.substr(0, 400);
    EXPECT_NE(r.body.find("Subscription.channel.endpoint"), std::string::npos)
        << endpoint << ": " << r.body;
  }
  auto pref = as(patient, "POST", "/fhir/Patient/" + pid + "/$notification-preferences",
                 Params({{"channel", "webhook"},
                         {"event", "document"},
                         {"enabled", "true"},
                         {"address", "http://192.168.1.10/hook"}}));
  EXPECT_EQ(pref.status, 422) << pref.body;
  EXPECT_NE(pref.body.find("address"), std::string::npos) << pref.body;
  EXPECT_EQ(Count("SELECT count(*) FROM patient_preference pp JOIN patient p ON p.patient_key = "
                  "pp.patient_key "
                  "WHERE p.resource_id = '" +
                  pid + "'"),
            0);

  // A name is not resolved when it is set; at delivery it resolves to loopback: refused,
  // nothing sent. Listed by the operator, the same notification leaves.
  std::string name = LoopbackHostName();
  if (name.empty()) GTEST_SKIP() << "no host name of this machine resolves to loopback only";
  std::string endpoint = "http://" + name + ":" + port + "/hook";
  auto named = subscription(endpoint);
  ASSERT_EQ(named.status, 201) << named.body;
  ASSERT_EQ(as(patient, "POST", "/fhir/CareTeam", CareTeam(pid, "810000000021")).status, 201);
  std::string doctor = Token(
      {"--actor", "professional", "--id", "810000000021", "--profession", "10", "--org", "org-h"});
  ASSERT_EQ(as(doctor, "GET", "/fhir/Patient/" + pid).status, 200);
  std::string hook_rows =
      "SELECT count(*) FROM outbox o JOIN patient p ON p.patient_key = o.patient_key "
      "WHERE p.resource_id = '" +
      pid + "' AND o.channel = 'webhook'";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (Count(hook_rows + " AND o.attempts > 0") < 1 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Count(hook_rows +
                  " AND o.delivered_at IS NULL AND o.last_error LIKE '%not a public address%'"),
            1)
      << gateway->Log();
  EXPECT_TRUE(ReadAll(hooks).empty()) << "a refused webhook was called";

  gateway->Terminate();
  gateway = std::make_unique<GatewayProcess>(std::vector<std::string>{
      "--outbox-poll-ms", "200", "--webhook-allowed-hosts", name + ":" + port});
  ASSERT_TRUE(gateway->WaitHealthy()) << gateway->Log();
  EXPECT_FALSE(
      WaitFor(hooks, {"\"resourceType\":\"Bundle\"", "AuditEvent/"}, std::chrono::seconds(20))
          .empty())
      << gateway->Log();
  EXPECT_EQ(Count(hook_rows + " AND o.delivered_at IS NULL"), 0);
  fs::remove_all(hooks);
}

// Reminders (issue 16): `send-reminders` queues, once ever, the vaccinations and screenings
// falling due for the records that asked for them; the outbox mails them (a child's to the
// guardian who asked); a second run sends nothing again; a closed record gets none.
TEST(NotificationTest, RemindersAreMailedOnceAndNeverForAClosedRecord) {
  std::string run = RandomHex(4);
  std::string dir = ::testing::TempDir() + "/carnet-remind-" + run;
  std::string maildir = dir + "/mail";
  fs::create_directories(dir);
  int smtp_port = FreePort();
  Subprocess smtp({"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l",
                   "127.0.0.1:" + std::to_string(smtp_port), "-c", "aiosmtpd.handlers.Mailbox",
                   maildir});
  ASSERT_TRUE(WaitForPort(smtp_port)) << "aiosmtpd did not start (is python3-aiosmtpd installed?)";
  GatewayProcess gateway({"--smtp-url", "smtp://127.0.0.1:" + std::to_string(smtp_port),
                          "--outbox-poll-ms", "200", "--reminder-interval-s", "0"});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  auto as = [&](const std::string& token, const std::string& method, const std::string& path,
                const std::string& body = "") {
    client.SetBearer(token);
    return client.Request(method, gateway.base_url() + path, {kJson}, body);
  };
  std::string operator_token = Token({"--actor", "operator", "--id", "ops-1"});
  long long base = 500000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
  struct Person {
    std::string id, ins, birth, token, address;
  };
  std::vector<Person> people;
  // An adult of 68 (the 65-year boosters, the influenza season, colorectal screening), one
  // whose record gets closed, and an infant of 2 months whose guardian asked.
  for (const auto& [name, birth, kind] :
       {std::tuple<std::string, std::string, std::string>{"adult", "1958-03-02", "patient"},
        {"closed", "1957-06-10", "patient"},
        {"infant", "2026-10-05", "guardian"}}) {
    Person p;
    p.id = "rem-" + name + "-" + run;
    p.ins = std::to_string(2) + std::to_string(base + people.size());
    p.birth = birth;
    p.address = name + "-" + run + "@example.org";
    p.token = kind == "patient"
                  ? Token({"--actor", "patient", "--id", "pat-" + p.id, "--patient", p.ins})
                  : Token({"--actor", "guardian", "--id", "parent-" + run, "--guardian-of", p.ins});
    ASSERT_EQ(as(operator_token, "PUT", "/fhir/Patient/" + p.id,
                 R"({"resourceType":"Patient","id":")" + p.id +
                     R"(","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" +
                     p.ins + R"("}],"birthDate":")" + birth + R"(","gender":"female"})")
                  .status,
              201);
    ASSERT_EQ(as(p.token, "POST", "/fhir/Patient/" + p.id + "/$notification-preferences",
                 Params({{"channel", "email"},
                         {"event", "reminder"},
                         {"enabled", "true"},
                         {"address", p.address}}))
                  .status,
              200);
    people.push_back(p);
  }
  ASSERT_EQ(as(operator_token, "POST", "/fhir/Patient/" + people[1].id + "/$close",
               R"({"resourceType":"Parameters"})")
                .status,
            200);

  std::string command = std::string(CARNET_GATEWAY_BINARY) + " send-reminders --date 2026-12-05 " +
                        "--db '" + TestDbConninfo() + "'";
  auto first = RunCommand(command);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_EQ(first.out.find(" 0 reminder"), std::string::npos) << first.out;
  auto outbox_of = [&](const Person& p) {
    return Count(
        "SELECT count(*) FROM outbox o JOIN patient p ON p.patient_key = o.patient_key "
        "WHERE o.event_kind = 'reminder' AND p.resource_id = '" +
        p.id + "'");
  };
  long long adult = outbox_of(people[0]), infant = outbox_of(people[2]);
  EXPECT_GT(adult, 0);
  EXPECT_GT(infant, 0);
  EXPECT_EQ(outbox_of(people[1]), 0) << "a closed record gets no reminder";
  EXPECT_FALSE(WaitFor(maildir, {"To: " + people[0].address, "calendrier officiel"}).empty());
  EXPECT_FALSE(WaitFor(maildir, {"To: " + people[2].address, "Une vaccination"}).empty())
      << "the infant's reminders go to the guardian who asked";
  // No vaccine named by e-mail: medical content is read in the record.
  for (const std::string& mail : ReadAll(maildir))
    EXPECT_EQ(mail.find("hexavalent"), std::string::npos);

  // A second run, as after a restart, queues nothing again.
  auto second = RunCommand(command);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_NE(second.out.find("0 reminder(s) queued"), std::string::npos) << second.out;
  EXPECT_EQ(outbox_of(people[0]), adult);
  EXPECT_EQ(outbox_of(people[2]), infant);
  // An unknown option is refused, naming the one it takes.
  auto bad = RunCommand(std::string(CARNET_GATEWAY_BINARY) + " send-reminders --when today");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("--date"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace carnet::testing
