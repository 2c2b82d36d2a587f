// IHE MHD ITI-65 (Provide Document Bundle): the rules a transaction Bundle must keep to be a
// document submission, checked before anything is written (ITI TF-2 3.65.4.1.2 and the MHD
// profiles Minimal, Comprehensive and UnContained Comprehensive).
#pragma once

#include "base/json.h"
#include "base/status.h"

namespace carnet::mapping {

// True when the Bundle is an MHD submission: it claims an IHE.MHD.*.ProvideBundle profile or
// holds a List of code submissionset.
bool IsMhdProvideBundle(const JsonValue& bundle);

// OK, or kInvalid naming the first problem with every other one as a detail (each with its
// location, "Bundle.entry[2].resource.subject"):
//   - exactly one SubmissionSet List; every DocumentReference of the Bundle is one of its
//     entries and every entry names a DocumentReference of the Bundle (or an existing one,
//     by a relative reference);
//   - one patient: the List's subject and every DocumentReference's subject are the same
//     reference;
//   - each DocumentReference has a masterIdentifier, a status and content; its attachment
//     url names a Binary of the Bundle (or an absolute URL), or carries data;
//   - the Comprehensive profiles add: type, category, securityLabel, content.format,
//     attachment contentType and creation, context.facilityType and context.practiceSetting,
//     and the List's designationType (contentTypeCode) and sourceId;
//   - Comprehensive (not UnContained) carries author, authenticator and
//     context.sourcePatientInfo as contained resources; UnContained may reference them (in
//     the Bundle or on this server: fhir/document_authors.h records their XDS view).
Status ValidateMhdProvideBundle(const JsonValue& bundle);

}  // namespace carnet::mapping
