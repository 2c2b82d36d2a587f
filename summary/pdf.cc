#include "summary/pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <memory>

namespace carnet::summary {
namespace {

// A4 in PostScript points, and the page's frame.
constexpr double kPageWidth = 595.28;
constexpr double kPageHeight = 841.89;
constexpr double kMargin = 48;
constexpr double kTop = 48;
constexpr double kBottom = 64;  // the footer lives below this
constexpr double kCellPad = 3;
constexpr double kFirstColumnShare = 0.34;  // the entry's name gets the widest column

constexpr char kBodyFont[] = "DejaVu Sans 8.5";
constexpr char kBoldFont[] = "DejaVu Sans Bold 8.5";
constexpr char kDeclaredFont[] = "DejaVu Sans Oblique 8.5";  // what the patient declared
constexpr char kTitleFont[] = "DejaVu Sans Bold 16";
constexpr char kSectionFont[] = "DejaVu Sans Bold 11.5";
constexpr char kSmallFont[] = "DejaVu Sans 7.5";

cairo_status_t AppendBytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

struct LayoutDeleter {
  void operator()(PangoLayout* l) const { g_object_unref(l); }
};
using Layout = std::unique_ptr<PangoLayout, LayoutDeleter>;

// One pass over the document: lays it out page by page and draws it. The first pass only
// counts the pages (its output is dropped); the second knows N for "Page n / N".
class Writer {
 public:
  Writer(cairo_t* cr, const Summary& s, int total_pages) : cr_(cr), s_(s), total_(total_pages) {}

  int Run() {
    y_ = kTop;
    Header();
    for (const SummarySection& section : s_.sections) Section(section);
    Footer();
    return page_;
  }

 private:
  Layout Text(const std::string& text, const char* font, double width,
              PangoAlignment align = PANGO_ALIGN_LEFT) {
    Layout l(pango_cairo_create_layout(cr_));
    PangoFontDescription* fd = pango_font_description_from_string(font);
    pango_layout_set_font_description(l.get(), fd);
    pango_font_description_free(fd);
    pango_layout_set_width(l.get(), static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_wrap(l.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l.get(), align);
    pango_layout_set_text(l.get(), text.c_str(), static_cast<int>(text.size()));
    return l;
  }
  static double Height(const Layout& l) {
    int w = 0, h = 0;
    pango_layout_get_size(l.get(), &w, &h);
    return static_cast<double>(h) / PANGO_SCALE;
  }
  void Draw(const Layout& l, double x, double y) {
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, l.get());
  }
  double ContentWidth() const { return kPageWidth - 2 * kMargin; }
  double Room() const { return kPageHeight - kBottom - y_; }

  // Ends the page (its footer) and starts the next.
  void NewPage() {
    Footer();
    cairo_show_page(cr_);
    ++page_;
    y_ = kTop;
  }
  void Footer() {
    std::string left = "carnet — " + s_.title + " — " + s_.patient.name;
    auto l = Text(left, kSmallFont, ContentWidth() * 0.7);
    cairo_set_source_rgb(cr_, 0.35, 0.35, 0.35);
    Draw(l, kMargin, kPageHeight - kBottom + 24);
    std::string n =
        "Page " + std::to_string(page_) + " / " + std::to_string(std::max(total_, page_));
    auto r = Text(n, kSmallFont, ContentWidth() * 0.3, PANGO_ALIGN_RIGHT);
    Draw(r, kMargin + ContentWidth() * 0.7, kPageHeight - kBottom + 24);
    cairo_set_source_rgb(cr_, 0, 0, 0);
  }

  void Paragraph(const std::string& text, const char* font, double space_after) {
    auto l = Text(text, font, ContentWidth());
    double h = Height(l);
    if (h > Room()) NewPage();
    Draw(l, kMargin, y_);
    y_ += h + space_after;
  }

  void Header() {
    Paragraph(s_.title, kTitleFont, 10);
    std::string who = s_.patient.name;
    if (!s_.patient.birth_date.empty()) who += ", né(e) le " + s_.patient.birth_date;
    Paragraph(who, kSectionFont, 3);
    for (const std::string& id : s_.patient.identifiers) Paragraph(id, kBodyFont, 2);
    Paragraph("Synthèse établie le " + s_.date +
                  " à partir des informations du dossier que la personne qui l'a demandée peut "
                  "consulter.",
              kBodyFont, 2);
    if (!s_.requester.empty()) Paragraph("Demandée par : " + s_.requester, kBodyFont, 3);
    Paragraph(std::string("Les lignes en italique, marquées « ") + kDeclaredByPatient +
                  " », ont été saisies par le patient lui-même ; les autres proviennent des "
                  "professionnels de santé et des documents déposés dans le dossier.",
              kSmallFont, 12);
    cairo_set_line_width(cr_, 0.8);
    cairo_move_to(cr_, kMargin, y_ - 6);
    cairo_line_to(cr_, kMargin + ContentWidth(), y_ - 6);
    cairo_stroke(cr_);
  }

  std::vector<double> ColumnWidths(size_t n) const {
    if (n == 1) return {ContentWidth()};
    std::vector<double> w(n, ContentWidth() * (1 - kFirstColumnShare) / static_cast<double>(n - 1));
    w[0] = ContentWidth() * kFirstColumnShare;
    return w;
  }

  // The layouts of one table row, and its height.
  struct RowLayout {
    std::vector<Layout> cells;
    double height = 0;
  };
  RowLayout LayRow(const std::vector<std::string>& cells, const std::vector<double>& widths,
                   const char* font) {
    RowLayout r;
    for (size_t i = 0; i < widths.size(); ++i) {
      r.cells.push_back(Text(i < cells.size() ? cells[i] : "", font, widths[i] - 2 * kCellPad));
      r.height = std::max(r.height, Height(r.cells.back()) + 2 * kCellPad);
    }
    return r;
  }
  void DrawRow(const RowLayout& r, const std::vector<double>& widths, bool shaded) {
    double x = kMargin;
    if (shaded) {
      cairo_set_source_rgb(cr_, 0.9, 0.92, 0.95);
      cairo_rectangle(cr_, kMargin, y_, ContentWidth(), r.height);
      cairo_fill(cr_);
      cairo_set_source_rgb(cr_, 0, 0, 0);
    }
    for (size_t i = 0; i < widths.size(); ++i) {
      Draw(r.cells[i], x + kCellPad, y_ + kCellPad);
      x += widths[i];
    }
    cairo_set_source_rgb(cr_, 0.75, 0.75, 0.75);
    cairo_set_line_width(cr_, 0.4);
    cairo_move_to(cr_, kMargin, y_ + r.height);
    cairo_line_to(cr_, kMargin + ContentWidth(), y_ + r.height);
    cairo_stroke(cr_);
    cairo_set_source_rgb(cr_, 0, 0, 0);
    y_ += r.height;
  }

  void Section(const SummarySection& section) {
    const SectionRule& rule = *section.rule;
    auto title = Text(rule.title, kSectionFont, ContentWidth());
    double title_h = Height(title) + 4;
    if (section.rows.empty()) {
      auto none = Text("Aucune information disponible.", kBodyFont, ContentWidth());
      if (title_h + Height(none) > Room()) NewPage();
      Draw(title, kMargin, y_);
      y_ += title_h;
      Draw(none, kMargin, y_);
      y_ += Height(none) + 14;
      return;
    }
    std::vector<std::string> headers;
    for (const auto& c : rule.columns) headers.push_back(c.header);
    auto widths = ColumnWidths(headers.size());
    RowLayout head = LayRow(headers, widths, kBoldFont);
    // The title stays with the table's header and first row.
    auto font = [](const SummaryRow& r) { return r.patient_declared ? kDeclaredFont : kBodyFont; };
    RowLayout first = LayRow(section.rows[0].cells, widths, font(section.rows[0]));
    if (title_h + head.height + first.height > Room()) NewPage();
    Draw(title, kMargin, y_);
    y_ += title_h;
    DrawRow(head, widths, true);
    for (size_t i = 0; i < section.rows.size(); ++i) {
      RowLayout row =
          i == 0 ? std::move(first) : LayRow(section.rows[i].cells, widths, font(section.rows[i]));
      if (row.height > Room()) {
        // The row moves to the next page, under the section's name and the table's header.
        NewPage();
        auto cont = Text(rule.title + " (suite)", kSectionFont, ContentWidth());
        Draw(cont, kMargin, y_);
        y_ += Height(cont) + 4;
        RowLayout again = LayRow(headers, widths, kBoldFont);
        DrawRow(again, widths, true);
      }
      DrawRow(row, widths, false);
    }
    y_ += 14;
  }

  cairo_t* cr_;
  const Summary& s_;
  int total_;
  int page_ = 1;
  double y_ = kTop;
};

// One rendering into `out` (nullptr: counted, dropped); the number of pages.
Result<int> Render(const Summary& s, int total_pages, std::string* out) {
  std::string discard;
  cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(AppendBytes, out ? out : &discard,
                                                                 kPageWidth, kPageHeight);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    return Internal("cannot create the PDF surface");
  }
  std::string title = s.title + " — " + s.patient.name;
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "carnet");
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT,
                                 "Patient summary (HL7 IPS, LOINC 60591-5)");
  cairo_t* cr = cairo_create(surface);
  int pages = Writer(cr, s, total_pages).Run();
  cairo_show_page(cr);
  cairo_status_t st = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (st != CAIRO_STATUS_SUCCESS)
    return Internal(std::string("PDF rendering failed: ") + cairo_status_to_string(st));
  return pages;
}

}  // namespace

Result<std::string> RenderSummaryPdf(const Summary& summary) {
  auto pages = Render(summary, 0, nullptr);
  if (!pages.ok()) return pages.status();
  std::string pdf;
  auto again = Render(summary, *pages, &pdf);
  if (!again.ok()) return again.status();
  return pdf;
}

std::string SummaryPdfFileName(const Summary& summary) {
  return "synthese-medicale-" + summary.patient_id + ".pdf";
}

}  // namespace carnet::summary
