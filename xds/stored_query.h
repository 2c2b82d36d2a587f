// ITI-18 Registry Stored Query: query:AdhocQueryRequest -> a typed StoredQuery that the SQL
// layer turns into one statement (spec/xds.md, "ITI-18 stored queries").
//
// Slot value syntax (ITI TF-2a 3.18.4.1.2.3): a string is quoted 'like this' ('' stands for a
// quote), a number or a timestamp is bare (200412252300), a multi-valued parameter is a
// parenthesised list ('a','b') possibly spread over several Value elements. For the AND/OR
// parameters ($XDSDocumentEntryEventCodeList, $XDSDocumentEntryConfidentialityCode,
// $XDSFolderCodeList) each Slot is one OR-list and repeated Slots are ANDed.
#pragma once

#include <map>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mapping/xds_metadata.h"
#include "storage/registry_query.h"

namespace carnet::xds {

enum class StoredQueryKind {
  kFindDocuments,
  kFindDocumentsByReferenceId,
  kFindSubmissionSets,
  kFindFolders,
  kGetAll,
  kGetDocuments,
  kGetFolders,
  kGetAssociations,
  kGetDocumentsAndAssociations,
  kGetSubmissionSets,
  kGetSubmissionSetAndContents,
  kGetFolderAndContents,
  kGetFoldersForDocument,
  kGetRelatedDocuments,
};

// "urn:uuid:14d4debf-..." <-> kFindDocuments; "FindDocuments" for logs and errors.
std::optional<StoredQueryKind> StoredQueryKindFromId(std::string_view id);
std::string_view StoredQueryId(StoredQueryKind kind);
std::string_view StoredQueryName(StoredQueryKind kind);

// One parsed value.
struct QueryValue {
  enum class Type { kString, kNumber };
  Type type = Type::kString;
  std::string text;  // unquoted ('' folded to ')
  bool operator==(const QueryValue&) const = default;
};

// A coded value in a query: 'code^^scheme'.
struct QueryCode {
  std::string code;
  std::string scheme;
  bool operator==(const QueryCode&) const = default;
};

struct StoredQuery {
  StoredQueryKind kind = StoredQueryKind::kFindDocuments;
  ReturnType return_type = ReturnType::kObjectRef;
  std::string home_community_id;  // AdhocQuery@home
  // Parameter name ("$XDSDocumentEntryStatus") -> AND-list of OR-lists. Single-valued and plain
  // multi-valued parameters have exactly one OR-list.
  std::map<std::string, std::vector<std::vector<QueryValue>>> parameters;

  bool Has(std::string_view name) const;
  // The value of a single-valued parameter, or nullptr.
  const QueryValue* Single(std::string_view name) const;
  // Every value of a multi-valued (non AND/OR) parameter.
  std::vector<std::string> Values(std::string_view name) const;
  // The AND-list of OR-lists of a coded parameter, values split into code and scheme.
  std::vector<std::vector<QueryCode>> Codes(std::string_view name) const;
};

struct StoredQueryParse {
  std::optional<StoredQuery> query;  // set when errors has no Error
  // XDSUnknownStoredQuery, XDSStoredQueryMissingParam, XDSStoredQueryParamNumber,
  // XDSRegistryError (value syntax); unknown parameters give a Warning.
  std::vector<RegistryError> errors;
};

// Parses a query:AdhocQueryRequest element. Every problem is collected.
StoredQueryParse ParseAdhocQueryRequest(pugi::xml_node request);

// The value syntax alone, for one Value text: "('a','b')" -> [a, b]; "'a'" -> [a]; "12" ->
// [12]. `list` says whether parentheses are required (multi-valued) or forbidden.
bool ParseSlotValue(std::string_view text, bool list, std::vector<QueryValue>* out);

// Every stored query, and the parameters each accepts (its QuerySpec in stored_query.cc).
const std::vector<StoredQueryKind>& StoredQueryKinds();
std::vector<std::string_view> AcceptedParameters(StoredQueryKind kind);

// One row of xds/data/query_parameters.tsv: which registry rows a parameter filters (object:
// DocumentEntry, SubmissionSet, Folder, Association, * or -), on which column, how (kind; the
// file's header lists them).
struct QueryParameterColumn {
  std::string parameter, object, column, kind;
};
// The table, read once from the compiled-in file; nullptr for a parameter it does not list.
const std::vector<QueryParameterColumn>& QueryParameterColumns();
const QueryParameterColumn* ColumnOf(std::string_view parameter);

// The registry query `q` asks (storage/registry_query.h): its shape, and each parameter's
// values on its column as the table says; at most `limit` rows per statement.
storage::RegistryQuery RegistryQueryOf(const StoredQuery& q, int limit);

}  // namespace carnet::xds
