// The SQL of a record's context as the policy reads it, shared inside storage/ by the read of
// a record alone (ReadRecordRow) and the read of a resource with its record in the same
// statement (ReadCurrentWithRecord): one text, so that both say the same thing.
#pragma once

#include "storage/connection.h"
#include "storage/record_context_store.h"

namespace carnet::storage {

// The context's twelve columns for the patient row `p`; the arguments are the statement's
// parameters ("$2"...) for RecordRowPartParams' five values, in their order.
#define CARNET_RECORD_CONTEXT_COLUMNS(apps, actor, emergency, senders, guardians)              \
  "coalesce(p.resource_id, ''), coalesce(p.ins, ''), p.status, "                               \
  "coalesce(p.treating_physician, ''), p.emergency_opposed, "                                  \
  "coalesce((SELECT array_agg(b.actor_id ORDER BY b.actor_id) FROM patient_block b "           \
  "WHERE b.patient_key = p.patient_key AND b.kind = 'professional'), '{}'), "                  \
  "coalesce((SELECT array_agg(b.actor_id ORDER BY b.actor_id) FROM patient_block b "           \
  "WHERE b.patient_key = p.patient_key AND b.kind = 'organisation'), '{}'), "                  \
  "coalesce((SELECT array_agg(DISTINCT c.member_id) FROM care_team_member c "                  \
  "WHERE c.patient_key = p.patient_key), '{}'), "                                              \
  "CASE WHEN " apps                                                                            \
  "::boolean THEN coalesce((SELECT array_agg(a.client_id || ' ' || "                           \
  "coalesce(a.measurement_kinds, '*') || ' ' || a.scopes "                                     \
  "ORDER BY a.client_id) "                                                                     \
  "FROM app_authorisation a WHERE a.patient_key = p.patient_key AND a.revoked_at IS NULL), "   \
  "'{}') "                                                                                     \
  "ELSE '{}' END, "                                                                            \
  "(SELECT extract(epoch FROM e.started_at)::bigint FROM emergency_access e "                  \
  "WHERE e.patient_key = p.patient_key AND e.actor_id = " actor " AND " emergency              \
  "::boolean), "                                                                               \
  "CASE WHEN " senders                                                                         \
  "::boolean THEN coalesce((SELECT array_agg(DISTINCT m.identifier_value) "                    \
  "FROM idx_reference m WHERE m.patient_key = p.patient_key AND m.res_type = "                 \
  "'Communication' AND m.param = 'sender' AND m.identifier_value IS NOT NULL), '{}') "         \
  "ELSE '{}' END, "                                                                            \
  "CASE WHEN " guardians                                                                       \
  "::text <> '' THEN coalesce((SELECT array_agg(g.res_id || ' ' || "                           \
  "t.code ORDER BY g.res_id) FROM resource g JOIN idx_token t ON t.res_type = g.res_type AND " \
  "t.res_id = g.res_id WHERE g.patient_key = p.patient_key AND g.res_type = "                  \
  "'RelatedPerson' AND NOT g.deleted AND t.param = 'identifier' AND t.system = " guardians     \
  "::text AND t.code IS NOT NULL), '{}') ELSE '{}' END "

// The five parameters CARNET_RECORD_CONTEXT_COLUMNS names, for `parts`.
SqlParams RecordRowPartParams(const RecordRowParts& parts);

// The RecordRow in the twelve columns of row `row` from column `first` on.
RecordRow RecordRowFrom(const PgResult& rec, int row, int first);

}  // namespace carnet::storage
