// CDA R2 header -> XDS DocumentEntry metadata (spec/mhd-and-cda.md, "CDA R2 header -> XDS
// metadata"): what a bare CDA deposit is filed with, and what a submitter's metadata is
// checked against.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "mapping/xds_metadata.h"

namespace carnet::mapping {

struct CdaHeader {
  xds::DocumentEntry entry;       // metadata derived from the header (id left empty)
  std::string patient_ins;        // national identity of recordTarget (extension)
  std::string patient_ins_oid;    // its root (1.2.250.1.213.1.4.8 ... .11)
  std::string replaces_unique_id; // relatedDocument[@typeCode='RPLC']/parentDocument/id
  std::string set_id;             // setId, versionNumber: successive versions of one document
  std::string version_number;
};

// Parses a CDA R2 document (safely: no DOCTYPE, bounded depth). kBadRequest for XML that is
// not a ClinicalDocument; kInvalid when a header element the metadata needs is missing.
Result<CdaHeader> ReadCdaHeader(std::string_view xml);

// The DMP class of a document type (mapping/data/document_codes.tsv); empty when unknown.
xds::Code ClassCodeForType(const std::string& type_code);

// HL7 TS ("20210401171000+0100") -> XDS DTM in UTC ("20210401161000"); empty when malformed.
std::string DtmFromHl7Ts(std::string_view ts);

}  // namespace carnet::mapping
