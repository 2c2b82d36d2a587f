#include "server/reminder_sender.h"

#include <chrono>

#include "base/log.h"
#include "base/strings.h"
#include "prevention/fhir_reminders.h"
#include "prevention/reminders.h"
#include "profiles/notification.h"
#include "profiles/policy.h"
#include "storage/reminder_store.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet {
namespace {

bool HiddenFromThePatient(const JsonValue& resource) {
  if (const JsonValue* meta = resource.Find("meta"))
    if (const JsonValue* security = meta->Find("security"); security && security->is_array())
      for (const JsonValue& c : security->items())
        if (c.GetString("code") == profiles::kInvisiblePatient) return true;
  return false;
}

// The reminders of one record, queued once each; how many were queued.
Result<int> QueueRecordReminders(storage::Transaction& tx, long long key,
                                 const prevention::PreventionRules& rules,
                                 const prevention::Date& today, int days_before) {
  prevention::ReminderInput input;
  input.today = today;
  input.horizon_days = days_before;
  std::string patient_id, birth, gender;
  std::string at, ai;
  constexpr int kChunk = 500;
  while (true) {
    auto page = storage::ReadRecordResources(tx, key, at, ai, kChunk);
    if (!page.ok()) return page.status();
    for (const storage::StoredResource& row : *page) {
      at = row.type;
      ai = row.id;
      if (row.type != "Patient" && row.type != "Immunization" && row.type != "Observation" &&
          row.type != "Procedure" && row.type != "DiagnosticReport")
        continue;
      auto res = ParseJson(row.content);
      if (!res.ok()) return Internal("stored " + at + "/" + ai + " is unreadable");
      // What the patient may not see does not remind them of anything.
      if (HiddenFromThePatient(*res)) continue;
      if (row.type == "Patient") {
        patient_id = row.id;
        birth = res->GetString("birthDate");
        gender = res->GetString("gender");
      } else if (row.type == "Immunization") {
        if (auto e = prevention::VaccinationOf(*res)) input.vaccinations.push_back(std::move(*e));
      } else if (auto e = prevention::ScreeningResultOf(*res)) {
        input.screenings.push_back(std::move(*e));
      }
    }
    if (static_cast<int>(page->size()) < kChunk) break;
  }
  auto born = prevention::ParseDate(birth);
  if (patient_id.empty() || birth.size() != 10 || !born) return 0;
  input.birth = *born;
  input.sex = gender == "female" ? prevention::Sex::kFemale
              : gender == "male" ? prevention::Sex::kMale
                                 : prevention::Sex::kUnknown;
  int queued = 0;
  prevention::Date horizon = today.AddDays(days_before);
  for (const prevention::Reminder& r : prevention::ComputeReminders(rules, input)) {
    using prevention::ReminderStatus;
    if (r.status != ReminderStatus::kDue && r.status != ReminderStatus::kOverdue &&
        r.status != ReminderStatus::kUpcoming)
      continue;
    if (!r.due || horizon < *r.due) continue;
    bool vaccination = r.kind == prevention::Reminder::Kind::kVaccination;
    std::string when = prevention::FormatDate(*r.due);
    std::string what =
        r.series + "|" + (r.season.empty() ? std::to_string(r.dose) : r.season) + "|" + when;
    std::string subject = vaccination ? "Rappel de vaccination / Vaccination reminder"
                                      : "Rappel de dépistage / Screening reminder";
    std::string text = std::string(vaccination ? "Une vaccination" : "Un dépistage") +
                       " recommandé(e) par le calendrier officiel est à faire à partir du " + when +
                       ". Consultez votre agenda dans Mon espace santé.\n" +
                       (vaccination ? "A vaccination" : "A screening") +
                       " recommended by the official calendar is due from " + when +
                       ": see your agenda.";
    auto first =
        profiles::EnqueueReminderOnce(tx, key, what, "Patient/" + patient_id, subject, text);
    if (!first.ok()) return first.status();
    if (*first) ++queued;
  }
  return queued;
}

}  // namespace

Result<int> QueueDueReminders(storage::Pool& pool, const prevention::PreventionRules& rules,
                              const prevention::Date& today, int days_before) {
  std::vector<long long> keys;
  Status st = storage::RunInTransaction(pool, [&](storage::Transaction& tx) -> Status {
    auto found = storage::RecordsWantingReminders(tx);
    if (!found.ok()) return found.status();
    keys = std::move(found).value();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  int total = 0;
  for (long long key : keys) {
    int queued = 0;
    // One record, one transaction: a failure leaves the other records' reminders queued.
    st = storage::RunInTransaction(pool, [&](storage::Transaction& tx) -> Status {
      auto n = QueueRecordReminders(tx, key, rules, today, days_before);
      if (!n.ok()) return n.status();
      queued = *n;
      return Status::Ok();
    });
    if (!st.ok()) return st;
    total += queued;
  }
  return total;
}

void ReminderSender::Start() {
  if (interval_s_ <= 0) return;
  thread_ = std::thread([this] { Run(); });
}

void ReminderSender::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReminderSender::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    std::string now = FormatUtc(std::chrono::system_clock::now());
    auto today = prevention::ParseDate(now.substr(0, 10));
    if (today) {
      auto queued = QueueDueReminders(pool_, rules_, *today, days_before_);
      if (!queued.ok())
        LogLine("{\"time\":\"" + now +
                "\",\"level\":\"warning\",\"event\":\"reminders_failed\",\"detail\":\"" +
                JsonEscape(queued.status().message()) + "\"}");
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::seconds(interval_s_), [this] { return stop_; });
  }
}

}  // namespace carnet
