// The patient summary as a PDF a person reads and prints: A4 pages laid out with Pango (UTF-8
// text shaped, wrapped to the column widths) on a Cairo PDF surface, so that the text is real
// text (selectable, searchable, accents right), never an image. Title, the patient's identity,
// the date and who asked, then each section of the summary as a table whose columns are the
// section's (summary/data/ips_sections.tsv); a row that does not fit moves to the next page
// under a repeated header; "Page n / N" at the foot of every page; a legend for the entries the
// patient declared. The document's metadata: title, creator "carnet" (the producer is Cairo's).
#pragma once

#include <string>

#include "base/status.h"
#include "summary/document.h"

namespace carnet::summary {

// The PDF bytes of `summary`.
Result<std::string> RenderSummaryPdf(const Summary& summary);

// The file name a browser saves it under: "synthese-medicale-<patient id>.pdf".
std::string SummaryPdfFileName(const Summary& summary);

}  // namespace carnet::summary
