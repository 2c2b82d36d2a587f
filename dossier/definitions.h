// The conformance resources carnet publishes for what it defines itself: the
// StructureDefinitions of its extensions (dossier/data/StructureDefinition-*.json, compiled
// in). Written at start-up through the one write path by carnet as operator, so that they
// are read like any shared conformance content: /fhir/StructureDefinition/[id] and
// /fhir/StructureDefinition?url=...; written again only when the data file changed.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "profiles/access.h"
#include "storage/pool.h"

namespace carnet::dossier {

// The definitions compiled in, parsed.
Result<std::vector<JsonValue>> PublishedDefinitions();

// Creates or updates each published definition whose stored version differs (ignoring meta);
// `written` (when given) receives "Type/id" of each one written.
Status PublishDefinitions(storage::Pool& pool, const profiles::AccessControl& access,
                          std::vector<std::string>* written = nullptr);

}  // namespace carnet::dossier
