#include "storage/audit_store.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "base/metrics.h"
#include "base/strings.h"
#include "storage/audit_batch.h"

namespace carnet::storage {
namespace {

std::string Hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>((v(hex[i]) << 4) | v(hex[i + 1])));
  return out;
}

// The row as hashed: each field as <length>:<bytes>; so that no two rows share a text.
// Fields, in order: chain key, event id, recorded (microseconds since the epoch), action,
// outcome, actor id, actor kind, emergency (t/f), content. seq is left out (it is assigned
// by the INSERT); order is carried by prev_hash.
std::string CanonicalRow(long long chain_key, const std::string& event_id, long long recorded_us,
                         const std::string& action, const std::string& outcome,
                         const std::string& actor_id, const std::string& actor_kind, bool emergency,
                         const std::string& content) {
  std::string out;
  auto field = [&](const std::string& f) { out += std::to_string(f.size()) + ":" + f + ";"; };
  field(std::to_string(chain_key));
  field(event_id);
  field(std::to_string(recorded_us));
  field(action);
  field(outcome);
  field(actor_id);
  field(actor_kind);
  field(emergency ? "t" : "f");
  field(content);
  return out;
}

constexpr Statement kEnsureHead{
    "audit_ensure_head",
    "INSERT INTO audit_chain_head (patient_key) VALUES ($1::bigint) ON CONFLICT DO NOTHING"};
constexpr Statement kLockHead{
    "audit_lock_head",
    "SELECT last_seq, encode(hash, 'hex') FROM audit_chain_head WHERE patient_key = $1::bigint "
    "FOR UPDATE"};
// The event, the objects it names (audit_event_entity, migration 0017) and the new chain head
// in one round trip (the head row is already locked).
constexpr Statement kAppendEvent{
    "audit_append_event",
    "WITH ins AS (INSERT INTO audit_event (patient_key, event_id, recorded, action, outcome, "
    "actor_id, actor_kind, emergency, content, prev_hash, hash, request_id, reason_code) VALUES "
    "($1::bigint, $2::uuid, $3::timestamptz, $4, $5, $6, $7, $8::boolean, $9, decode($10, "
    "'hex'), decode($11, 'hex'), $13, $14) "
    "RETURNING seq, patient_key), "
    "ent AS (INSERT INTO audit_event_entity (patient_key, reference, seq) "
    "SELECT ins.patient_key, r.ref, ins.seq FROM ins, audit_entity_refs($9) AS r(ref) "
    "WHERE ins.patient_key IS NOT NULL) "
    "UPDATE audit_chain_head h SET last_seq = ins.seq, hash = decode($11, 'hex'), "
    "updated_at = now() FROM ins WHERE h.patient_key = $12::bigint RETURNING ins.seq"};

}  // namespace

std::string AuditHash(const std::string& prev_hash, const std::string& canonical_row) {
  std::string input = prev_hash + canonical_row;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

AuditRow ChainAuditRecord(const AuditRecord& record, const std::string& prev_hash) {
  AuditRow row;
  row.chain_key = record.patient_key.value_or(0);
  row.event_id = record.event_id;
  // Milliseconds throughout: what the content says, what the column holds, what is hashed.
  auto recorded = std::chrono::time_point_cast<std::chrono::milliseconds>(record.recorded);
  long long recorded_us = recorded.time_since_epoch().count() * 1000;
  row.recorded = FormatUtc(recorded);
  row.content = record.content;
  row.hash = AuditHash(prev_hash,
                       CanonicalRow(row.chain_key, record.event_id, recorded_us,
                                    std::string(1, record.action), record.outcome, record.actor_id,
                                    record.actor_kind, record.emergency, row.content));
  return row;
}

// The append itself, without its measurement.
Result<AppendedAudit> AppendAuditRecordTimed(Transaction& tx, const AuditRecord& record);

Result<AppendedAudit> AppendAuditRecord(Transaction& tx, const AuditRecord& record) {
  static auto& latency = Metrics()
                             .Histogram("carnet_audit_append_seconds",
                                        "time to append one audit event to its hash chain (lock "
                                        "the chain head, insert, advance the head)",
                                        {}, LatencyBuckets())
                             .Get();
  auto started = std::chrono::steady_clock::now();
  auto result = AppendAuditRecordTimed(tx, record);
  latency.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (result.ok()) NoteAuditAppend();
  return result;
}

Result<AppendedAudit> AppendAuditRecordTimed(Transaction& tx, const AuditRecord& record) {
  // Reads this transaction deferred (Transaction::DeferAudit) go first: the chain keeps the
  // order in which the transaction's events happened.
  if (!tx.deferred_audit().empty()) {
    std::vector<AuditRecord> earlier = std::move(tx.deferred_audit());
    tx.deferred_audit().clear();
    CARNET_RETURN_IF_ERROR(AppendAuditBatch(tx, earlier));
  }
  std::string key = std::to_string(record.patient_key.value_or(0));
  // Lock the chain head; a chain's first event creates it first (one round trip otherwise).
  auto head = tx.Run(kLockHead, {SqlParam::Text(key)});
  if (!head.ok()) return head.status();
  if (head->rows() == 0) {
    auto ensured = tx.Run(kEnsureHead, {SqlParam::Text(key)});
    if (!ensured.ok()) return ensured.status();
    head = tx.Run(kLockHead, {SqlParam::Text(key)});
    if (!head.ok()) return head.status();
    if (head->rows() == 0)
      return Status(ErrorCode::kInternal, "audit chain head " + key + " missing");
  }
  std::string prev_hex = !head->IsNull(0, 1) ? head->GetString(0, 1) : "";
  AuditRow row = ChainAuditRecord(record, Unhex(prev_hex));
  AppendedAudit out;
  out.event_id = row.event_id;
  out.hash = row.hash;
  std::string hash_hex = Hex(out.hash);
  auto appended =
      tx.Run(kAppendEvent,
             {record.patient_key ? SqlParam::Text(key) : SqlParam::Null(),
              SqlParam::Text(row.event_id), SqlParam::Text(row.recorded),
              SqlParam::Text(std::string(1, record.action)), SqlParam::Text(record.outcome),
              record.actor_id.empty() ? SqlParam::Null() : SqlParam::Text(record.actor_id),
              record.actor_kind.empty() ? SqlParam::Null() : SqlParam::Text(record.actor_kind),
              SqlParam::Text(record.emergency ? "true" : "false"), SqlParam::Text(row.content),
              prev_hex.empty() ? SqlParam::Null() : SqlParam::Text(prev_hex),
              SqlParam::Text(hash_hex), SqlParam::Text(key),
              record.request_id.empty() ? SqlParam::Null() : SqlParam::Text(record.request_id),
              record.reason_code.empty() ? SqlParam::Null() : SqlParam::Text(record.reason_code)});
  if (!appended.ok()) return appended.status();
  if (appended->rows() != 1)
    return Status(ErrorCode::kInternal, "audit chain head " + key + " not updated");
  out.seq = appended->GetInt(0, 0);
  return out;
}

Status AppendAuditBatch(Transaction& tx, const std::vector<AuditRecord>& records) {
  if (records.empty()) return Status::Ok();
  std::vector<long long> keys;
  for (const AuditRecord& r : records) keys.push_back(r.patient_key.value_or(0));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::string key_array = "{";
  for (size_t i = 0; i < keys.size(); ++i) key_array += (i ? "," : "") + std::to_string(keys[i]);
  key_array += "}";
  // ORDER BY before FOR UPDATE: the rows are locked as the sort returns them, ascending.
  static constexpr Statement kLockHeads{
      "audit_lock_heads",
      "SELECT patient_key, coalesce(encode(hash, 'hex'), '') FROM audit_chain_head "
      "WHERE patient_key = ANY($1::bigint[]) ORDER BY patient_key FOR UPDATE"};
  static constexpr Statement kEnsureHeads{
      "audit_ensure_heads",
      "INSERT INTO audit_chain_head (patient_key) SELECT unnest($1::bigint[]) "
      "ON CONFLICT DO NOTHING"};
  auto heads = tx.Run(kLockHeads, {SqlParam::Text(key_array)});
  if (!heads.ok()) return heads.status();
  if (heads->rows() < static_cast<int>(keys.size())) {
    // A chain's first event: create the missing heads, then lock them all (again, in order).
    auto ensured = tx.Run(kEnsureHeads, {SqlParam::Text(key_array)});
    if (!ensured.ok()) return ensured.status();
    heads = tx.Run(kLockHeads, {SqlParam::Text(key_array)});
    if (!heads.ok()) return heads.status();
    if (heads->rows() != static_cast<int>(keys.size()))
      return Status(ErrorCode::kInternal, "audit chain heads missing");
  }
  std::map<long long, std::string> prev;  // chain -> raw hash of its last event
  for (int i = 0; i < heads->rows(); ++i) prev[heads->GetInt(i, 0)] = Unhex(heads->GetString(i, 1));

  // One INSERT of every event, in batch order (seq follows the sorted rows: each chain's
  // events get increasing seq in the order they were chained), one of the objects they name
  // (audit_event_entity), and the heads moved to each chain's last event, matched by event
  // id, in the same statement.
  std::map<long long, std::pair<std::string, std::string>> last;  // chain -> (event id, hex)
  std::string sql =
      "WITH ins AS (INSERT INTO audit_event (patient_key, event_id, recorded, action, outcome, "
      "actor_id, actor_kind, emergency, content, prev_hash, hash, request_id, reason_code) "
      "SELECT pk, eid, rec, act, oc, aid, ak, em, body, decode(ph, 'hex'), decode(h, 'hex'), "
      "rid, rc FROM (VALUES ";
  SqlParams params;
  params.reserve(records.size() * 14);
  for (size_t i = 0; i < records.size(); ++i) {
    const AuditRecord& record = records[i];
    long long key = record.patient_key.value_or(0);
    std::string& prev_hash = prev[key];
    AuditRow row = ChainAuditRecord(record, prev_hash);
    std::string prev_hex = Hex(prev_hash), hash_hex = Hex(row.hash);
    prev_hash = row.hash;
    last[key] = {row.event_id, hash_hex};
    size_t n = params.size();
    auto p = [&](size_t k, const char* type) {
      return "$" + std::to_string(n + k) + (type[0] ? "::" : "") + type;
    };
    sql += (i ? "," : "");
    sql += "(" + p(1, "int") + "," + p(2, "bigint") + "," + p(3, "uuid") + "," +
           p(4, "timestamptz") + "," + p(5, "text") + "," + p(6, "text") + "," + p(7, "text") +
           "," + p(8, "text") + "," + p(9, "boolean") + "," + p(10, "text") + "," + p(11, "text") +
           "," + p(12, "text") + "," + p(13, "text") + "," + p(14, "text") + ")";
    params.push_back(SqlParam::Text(std::to_string(i)));
    params.push_back(record.patient_key ? SqlParam::Text(std::to_string(key)) : SqlParam::Null());
    params.push_back(SqlParam::Text(row.event_id));
    params.push_back(SqlParam::Text(row.recorded));
    params.push_back(SqlParam::Text(std::string(1, record.action)));
    params.push_back(SqlParam::Text(record.outcome));
    params.push_back(record.actor_id.empty() ? SqlParam::Null() : SqlParam::Text(record.actor_id));
    params.push_back(record.actor_kind.empty() ? SqlParam::Null()
                                               : SqlParam::Text(record.actor_kind));
    params.push_back(SqlParam::Text(record.emergency ? "true" : "false"));
    params.push_back(SqlParam::Text(row.content));
    params.push_back(prev_hex.empty() ? SqlParam::Null() : SqlParam::Text(prev_hex));
    params.push_back(SqlParam::Text(hash_hex));
    params.push_back(record.request_id.empty() ? SqlParam::Null()
                                               : SqlParam::Text(record.request_id));
    params.push_back(record.reason_code.empty() ? SqlParam::Null()
                                                : SqlParam::Text(record.reason_code));
  }
  sql +=
      ") AS v(ord, pk, eid, rec, act, oc, aid, ak, em, body, ph, h, rid, rc) ORDER BY ord "
      "RETURNING seq, event_id, patient_key, content), "
      "ent AS (INSERT INTO audit_event_entity (patient_key, reference, seq) "
      "SELECT ins.patient_key, r.ref, ins.seq FROM ins, audit_entity_refs(ins.content) AS r(ref) "
      "WHERE ins.patient_key IS NOT NULL) "
      "UPDATE audit_chain_head h SET last_seq = ins.seq, hash = decode(m.h, 'hex'), "
      "updated_at = now() FROM (VALUES ";
  size_t i = 0;
  for (const auto& [key, event] : last) {
    size_t n = params.size();
    sql += (i++ ? "," : "");
    sql += "($" + std::to_string(n + 1) + "::bigint,$" + std::to_string(n + 2) + "::uuid,$" +
           std::to_string(n + 3) + "::text)";
    params.push_back(SqlParam::Text(std::to_string(key)));
    params.push_back(SqlParam::Text(event.first));
    params.push_back(SqlParam::Text(event.second));
  }
  sql +=
      ") AS m(k, eid, h) JOIN ins ON ins.event_id = m.eid WHERE h.patient_key = m.k "
      "RETURNING h.patient_key";
  auto appended = tx.RunDynamic(sql, params);
  if (!appended.ok()) return appended.status();
  if (appended->rows() != static_cast<int>(last.size()))
    return Status(ErrorCode::kInternal, "audit chain heads not updated by the batch");
  for (size_t k = 0; k < records.size(); ++k) NoteAuditAppend();
  return Status::Ok();
}

Result<AuditVerification> VerifyAuditChains(Connection& conn,
                                            std::optional<long long> patient_key) {
  AuditVerification v;
  std::vector<long long> chains;
  if (patient_key) {
    chains.push_back(*patient_key);
  } else {
    auto r = conn.RunDynamic(
        "SELECT patient_key FROM audit_chain_head UNION "
        "SELECT DISTINCT coalesce(patient_key, 0) FROM audit_event ORDER BY 1");
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) chains.push_back(r->GetInt(i, 0));
  }
  static constexpr Statement kRows{
      "audit_verify_rows",
      "SELECT seq, event_id::text, (extract(epoch FROM recorded) * 1000000)::bigint, action, "
      "outcome, coalesce(actor_id, ''), coalesce(actor_kind, ''), emergency, content, "
      "coalesce(encode(prev_hash, 'hex'), ''), encode(hash, 'hex') FROM audit_event "
      "WHERE coalesce(patient_key, 0) = $1::bigint AND seq > $2::bigint ORDER BY seq LIMIT 1000"};
  static constexpr Statement kHead{
      "audit_verify_head",
      "SELECT last_seq, coalesce(encode(hash, 'hex'), '') FROM audit_chain_head "
      "WHERE patient_key = $1::bigint"};
  for (long long chain : chains) {
    ++v.chains;
    std::string key = std::to_string(chain);
    std::string prev_hex;  // hash of the previous row, hex; empty before the first
    long long last_seq = 0;
    auto fail = [&](long long seq, std::string problem) {
      v.first_break = AuditBreak{chain, seq, std::move(problem)};
      return v;
    };
    for (;;) {
      auto rows = conn.Run(kRows, {SqlParam::Text(key), SqlParam::Text(std::to_string(last_seq))});
      if (!rows.ok()) return rows.status();
      for (int i = 0; i < rows->rows(); ++i) {
        ++v.events;
        long long seq = rows->GetInt(i, 0);
        std::string stored_prev = rows->GetString(i, 9), stored_hash = rows->GetString(i, 10);
        if (stored_prev != prev_hex)
          return fail(seq, prev_hex.empty() ? "first event of the chain has a previous hash"
                                            : "previous hash does not match the previous event "
                                              "(an event was removed or reordered)");
        std::string expected = Hex(AuditHash(
            Unhex(prev_hex),
            CanonicalRow(chain, rows->GetString(i, 1), rows->GetInt(i, 2), rows->GetString(i, 3),
                         rows->GetString(i, 4), rows->GetString(i, 5), rows->GetString(i, 6),
                         rows->GetBool(i, 7), rows->GetString(i, 8))));
        if (expected != stored_hash)
          return fail(seq, "event content does not match its hash (altered)");
        prev_hex = stored_hash;
        last_seq = seq;
      }
      if (rows->rows() < 1000) break;
    }
    auto head = conn.Run(kHead, {SqlParam::Text(key)});
    if (!head.ok()) return head.status();
    if (head->rows() == 0) {
      if (last_seq != 0) return fail(0, "chain has events but no head");
    } else if ((head->IsNull(0, 0) ? 0 : head->GetInt(0, 0)) != last_seq ||
               head->GetString(0, 1) != prev_hex) {
      return fail(0, "chain head does not match the last event (events removed at the end)");
    }
  }
  return v;
}

AccessHistoryStatement RenderAccessHistory(const AuditEventQuery& q) {
  // Without an object: the record's events, newest first.
  static constexpr Statement kEvents{
      "access_history_page",
      "SELECT seq, content FROM audit_event WHERE patient_key = ANY($1::bigint[]) "
      "AND ($2 = '' OR recorded >= $2::timestamptz) AND ($3 = '' OR recorded <= $3::timestamptz) "
      "AND ($4 = '' OR actor_id = $4) AND ($5 = '' OR seq < $5::bigint) "
      "ORDER BY seq DESC LIMIT $6::int"};
  // With objects (issue 20): for each record and each object, its newest events by the
  // (patient_key, reference, seq) key of audit_event_entity, walked backwards from the cursor
  // and stopped at the page's size once the other filters held; the page is the newest of
  // those (an event naming two of the objects counts once). The record's other events are
  // never read.
  static constexpr Statement kEntityEvents{
      "access_history_entity_page",
      "SELECT a.seq, a.content FROM audit_event a WHERE a.seq IN ("
      "SELECT m.seq FROM unnest($1::bigint[]) AS k(key) CROSS JOIN unnest($7::text[]) AS r(ref) "
      "CROSS JOIN LATERAL (SELECT x.seq FROM audit_event_entity x "
      "JOIN audit_event e ON e.seq = x.seq "
      "WHERE x.patient_key = k.key AND x.reference = r.ref "
      "AND x.seq < coalesce(nullif($5::text, '')::bigint, 9223372036854775807) "
      "AND ($2 = '' OR e.recorded >= $2::timestamptz) "
      "AND ($3 = '' OR e.recorded <= $3::timestamptz) AND ($4 = '' OR e.actor_id = $4) "
      "ORDER BY x.seq DESC LIMIT $6::int) AS m) "
      "ORDER BY a.seq DESC LIMIT $6::int"};
  std::string keys = "{";
  for (size_t i = 0; i < q.patient_keys.size(); ++i)
    keys += (i ? "," : "") + std::to_string(q.patient_keys[i]);
  keys += "}";
  AccessHistoryStatement out{q.entities.empty() ? kEvents : kEntityEvents,
                             {SqlParam::Text(keys), SqlParam::Text(q.from), SqlParam::Text(q.to),
                              SqlParam::Text(q.actor_id), SqlParam::Text(q.before_seq),
                              SqlParam::Text(std::to_string(q.limit))}};
  if (!q.entities.empty()) {
    // An event names the resource or one of its versions ([type]/[id]/_history/[vid]): the
    // index holds [type]/[id] (audit_entity_refs). The references are [type]/[id]: letters,
    // digits, '-', '.' and one '/' (checked by the caller), nothing an array literal would
    // need to quote.
    std::string entities = "{";
    for (size_t i = 0; i < q.entities.size(); ++i) entities += (i ? "," : "") + q.entities[i];
    entities += "}";
    out.params.push_back(SqlParam::Text(entities));
  }
  return out;
}

Result<std::vector<StoredAuditEvent>> ReadAuditEvents(Transaction& tx, const AuditEventQuery& q) {
  AccessHistoryStatement st = RenderAccessHistory(q);
  auto r = tx.Run(st.statement, st.params);
  if (!r.ok()) return r.status();
  std::vector<StoredAuditEvent> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back({r->GetInt(i, 0), r->GetString(i, 1)});
  return out;
}

Result<std::vector<AuditDecisionRow>> ReadAuditDecisions(Transaction& tx,
                                                         const AuditDecisionQuery& q) {
#define CARNET_DECISION_COLUMNS                                                             \
  "SELECT seq, to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), " \
  "coalesce(actor_id, ''), coalesce(actor_kind, ''), outcome, coalesce(reason_code, ''), "  \
  "coalesce(request_id, ''), content FROM audit_event "
  static const Statement kByRequest{
      "support_decisions_by_request", CARNET_DECISION_COLUMNS
      "WHERE request_id = $1 AND seq > $2::bigint ORDER BY seq LIMIT $3::int"};
  static const Statement kByActor{
      "support_decisions_by_actor", CARNET_DECISION_COLUMNS
      "WHERE actor_id = $1 AND recorded >= $2::timestamptz AND recorded < $3::timestamptz "
      "AND seq > $4::bigint ORDER BY seq LIMIT $5::int"};
#undef CARNET_DECISION_COLUMNS
  std::string after = std::to_string(q.after_seq), limit = std::to_string(q.limit);
  auto r = !q.request_id.empty()
               ? tx.Run(kByRequest, {SqlParam::Text(q.request_id), SqlParam::Text(after),
                                     SqlParam::Text(limit)})
               : tx.Run(kByActor, {SqlParam::Text(q.actor_id),
                                   SqlParam::Text(q.from.empty() ? "-infinity" : q.from),
                                   SqlParam::Text(q.to.empty() ? "infinity" : q.to),
                                   SqlParam::Text(after), SqlParam::Text(limit)});
  if (!r.ok()) return r.status();
  std::vector<AuditDecisionRow> out;
  for (int i = 0; i < r->rows(); ++i) {
    AuditDecisionRow row;
    row.seq = r->GetInt(i, 0);
    row.recorded = r->GetString(i, 1);
    row.actor_id = r->GetString(i, 2);
    row.actor_kind = r->GetString(i, 3);
    row.outcome = r->GetString(i, 4);
    row.reason_code = r->GetString(i, 5);
    row.request_id = r->GetString(i, 6);
    row.content = r->GetString(i, 7);
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace carnet::storage
