// Extraction on write: the index rows of one resource, computed by evaluating every search
// parameter's expression of its type, and written to the idx_* tables
// (storage/search_index_store.h) in the write's transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "model/search_params.h"
#include "storage/pool.h"
#include "storage/resource_store.h"
#include "storage/search_index_store.h"
#include "storage/transaction.h"

namespace carnet::dossier {

// The rows are plain table rows, defined by storage (storage/search_index_store.h).
using IndexRows = storage::IndexRows;

// The rows of `resource` (of `type`) for every indexable parameter of `params`.
IndexRows ExtractIndexRows(const model::SearchParamSet& params, const std::string& type,
                           const JsonValue& resource);

// Adds the words of a DocumentReference's document (its inline data or the Binary it names,
// when the document is text: a CDA, plain text...) to its _content row; does nothing for
// other types.
Status AddDocumentText(storage::Transaction& tx, const std::string& type, const JsonValue& resource,
                       IndexRows* rows);

// Rewrites the index rows of DocumentReference `dr_id` (when current), its document's words
// included: once its content is stored after it (a Binary written later, in an XDS submission
// or an MHD bundle). With `content_url`, only when the document's attachment names it.
Status ReindexDocument(storage::Transaction& tx, const std::string& dr_id,
                       const std::string& content_url = "");

// Rewrites the index rows of one resource inside the write's transaction: removes the rows
// of its previous version and, unless `resource` is null (a deletion), extracts and inserts
// the new ones. A SearchParameter resource also updates the custom parameters (kInvalid for
// one this server cannot index).
Status UpdateSearchIndex(storage::Transaction& tx, const storage::StoredResource& stored,
                         const JsonValue* resource);

// Rebuilds the index rows of the current resources of `type` (every type when empty), in
// batches of one transaction each: after a custom SearchParameter is added, resources
// written before it become searchable by it. Returns the number of resources reindexed.
Result<long long> Reindex(storage::Pool& pool, const std::string& type);

// A reference as written, split: "Patient/1" -> type Patient, id 1; absolute URLs and
// canonicals -> url. Empty fields when not applicable.
struct ParsedReference {
  std::string type, id, url;
};
ParsedReference ParseReference(const std::string& ref);

}  // namespace carnet::dossier
