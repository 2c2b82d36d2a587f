// The XDS view of a DocumentReference whose author or authenticator is a reference to a
// resource rather than a contained one (IHE MHD UnContained Comprehensive): XDS keeps authors
// as values (XCN, XON), so when such a DocumentReference is written, carnet reads the
// referenced Practitioner, PractitionerRole or Organization and records what it said then in
// the carnet xds-author / xds-legal-authenticator extensions, from which the DocumentEntry,
// the registry index and ITI-18's $XDSDocumentEntryAuthorPerson are derived. A document's
// authors are those at the time it was written: a later change of the Practitioner does not
// rewrite them. A reference carnet cannot resolve is left as it is.
#pragma once

#include "base/json.h"
#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::fhir {

Status RecordReferencedAuthors(storage::Transaction& tx, JsonValue& document_reference);

}  // namespace carnet::fhir
