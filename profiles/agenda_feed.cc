#include "profiles/agenda_feed.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "profiles/policy_store.h"
#include "storage/agenda_feed_store.h"
#include "storage/resource_store.h"

namespace carnet::profiles {
namespace {

std::string Sha256(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

// 256 random bits as base64url without padding: as hard to guess as a signing key.
Result<std::string> NewSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Internal("no random bytes for a link");
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned int acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

}  // namespace

Result<std::string> IssueAgendaFeed(storage::Transaction& tx, AccessSession& session,
                                    const std::string& patient_id, bool revoke) {
  AuditEntry audit = AuditEntry::Rest("operation", 'U');
  audit.subtype_display = "$agenda-link";
  audit.object_reference = "Patient/" + patient_id + "/$agenda-link";
  auto key = storage::FindPatientKeyByResourceId(tx, patient_id);
  if (!key.ok()) return key.status();
  if (!*key)
    return session.Refuse(audit, Refusal(Reason::kNotFound, "no such record"), std::nullopt,
                          "Patient/" + patient_id);
  // One must see the record to learn anything about it; then the link is a choice of the
  // patient's side, decided as their other choices on the record.
  auto visible = session.DecideRecord(tx, **key, Action::kSearch);
  if (!visible.ok()) return visible.status();
  auto d = session.DecideRecord(tx, **key, Action::kManageBlocks);
  if (!d.ok()) return d.status();
  if (!d->allowed) {
    Decision shown = *d;
    if (!visible->allowed) shown.refusal = ErrorCode::kNotFound;
    return session.Refuse(audit, shown, **key, "Patient/" + patient_id);
  }
  const Actor& actor = session.actor();
  auto ended = storage::RevokeAgendaFeeds(tx, **key, actor.PrincipalId());
  if (!ended.ok()) return ended.status();
  std::string secret;
  if (!revoke) {
    auto fresh = NewSecret();
    if (!fresh.ok()) return fresh.status();
    secret = std::move(fresh).value();
    storage::AgendaFeedRow row;
    row.secret_hash = Sha256(secret);
    row.patient_key = **key;
    row.patient_id = patient_id;
    row.principal_id = actor.PrincipalId();
    row.claims = WriteJson(actor.claims);
    CARNET_RETURN_IF_ERROR(storage::InsertAgendaFeed(tx, row));
  }
  CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, *d, **key));
  return secret;
}

Result<std::optional<AgendaFeedHolder>> ResolveAgendaFeed(storage::Transaction& tx,
                                                          const std::string& secret) {
  if (secret.empty() || secret.size() > 64) return std::optional<AgendaFeedHolder>();
  auto row = storage::FindAgendaFeed(tx, Sha256(secret));
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<AgendaFeedHolder>();
  auto claims = ParseJson((*row)->claims);
  if (!claims.ok()) return Internal("a stored calendar link's identity is unreadable");
  // The claims were verified when the link was issued; the token they came from has expired
  // since, which is the point of a link. The policy decides every use afresh.
  auto actor = ActorFromClaims(*claims);
  if (!actor.ok()) return std::optional<AgendaFeedHolder>();
  return std::optional<AgendaFeedHolder>(
      AgendaFeedHolder{std::move(actor).value(), (*row)->patient_id});
}

}  // namespace carnet::profiles
