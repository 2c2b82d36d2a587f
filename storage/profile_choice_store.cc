#include "storage/profile_choice_store.h"

namespace carnet::storage {
namespace {

constexpr Statement kHidden{
    "profile_sections_hidden",
    "SELECT section FROM profile_section_choice WHERE patient_key = $1::bigint AND hidden "
    "ORDER BY section"};
constexpr Statement kSet{
    "profile_section_set",
    "INSERT INTO profile_section_choice (patient_key, section, hidden) "
    "VALUES ($1::bigint, $2, $3::boolean) "
    "ON CONFLICT (patient_key, section) DO UPDATE SET hidden = excluded.hidden"};

}  // namespace

Result<std::vector<std::string>> HiddenProfileSections(Transaction& tx, long long patient_key) {
  auto r = tx.Run(kHidden, {SqlParam::Text(std::to_string(patient_key))});
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(r->GetString(i, 0));
  return out;
}

Status SetProfileSectionHidden(Transaction& tx, long long patient_key, const std::string& section,
                               bool hidden) {
  auto r = tx.Run(kSet, {SqlParam::Text(std::to_string(patient_key)), SqlParam::Text(section),
                         SqlParam::Text(hidden ? "true" : "false")});
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace carnet::storage
