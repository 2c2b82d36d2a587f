#include "server/espace.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/json.h"
#include "base/strings.h"
#include "profiles/dev_token.h"

namespace carnet {

const char kEspaceCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'self' blob:; frame-src 'self' blob:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

namespace {

void Harden(HttpResponse& r) {
  r.SetHeader("Content-Security-Policy", kEspaceCsp);
  r.SetHeader("X-Frame-Options", "DENY");
  r.SetHeader("X-Content-Type-Options", "nosniff");
  r.SetHeader("Referrer-Policy", "no-referrer");
  r.SetHeader("Cross-Origin-Opener-Policy", "same-origin");
}

HttpResponse Text(int status, const std::string& text) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = text;
  Harden(r);
  return r;
}

HttpResponse JsonAnswer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.SetHeader("Cache-Control", "no-store");
  Harden(r);
  return r;
}

HttpResponse JsonError(int status, const std::string& message) {
  return JsonAnswer(status, "{\"error\":\"" + JsonEscape(message) + "\"}");
}

std::string ContentTypeOf(const std::string& name) {
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".json") || ends(".webmanifest")) return "application/json";
  if (ends(".woff2")) return "font/woff2";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// A file name the page may ask for: letters, digits, '-', '_', '.', '/' and no '..'.
bool SafeRelative(const std::string& rel) {
  if (rel.empty() || rel.front() == '/' || rel.find("..") != std::string::npos) return false;
  for (char c : rel)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '/'))
      return false;
  return true;
}

bool DigitsOnly(const std::string& s, size_t min, size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

bool Espace::Owns(const std::string& path) {
  return path == "/espace" || path.rfind("/espace/", 0) == 0;
}

std::string DefaultEspaceDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "espace";
  return (exe.parent_path() / "espace").string();
}

HttpResponse Espace::Handle(const HttpRequest& req) const {
  if (req.path == "/espace") {
    HttpResponse r = Text(301, "/espace/\n");
    r.SetHeader("Location", "/espace/");
    return r;
  }
  std::string rel = req.path.substr(8);  // after "/espace/"
  if (rel == "dev-login") {
    // Absent, not refused, when the gateway is not a development one.
    if (!options_.dev_login) return JsonError(404, "no such endpoint");
    if (req.method != "POST") {
      HttpResponse r = JsonError(405, "dev-login is a POST");
      r.SetHeader("Allow", "POST");
      return r;
    }
    return DevLogin(req);
  }
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = Text(405, "Méthode non permise.\n");
    r.SetHeader("Allow", "GET, HEAD");
    return r;
  }
  if (rel.empty()) rel = "index.html";
  HttpResponse r = File(req, rel);
  if (req.method == "HEAD") r.body.clear();
  return r;
}

HttpResponse Espace::File(const HttpRequest&, const std::string& rel) const {
  HttpResponse missing = Text(404, "Cette page n'existe pas.\n");
  if (!SafeRelative(rel)) return missing;
  std::filesystem::path path = std::filesystem::path(options_.dir) / rel;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    if (rel == "index.html")
      return Text(503,
                  "L'espace patient n'est pas construit sur ce serveur (cmake --build build "
                  "--target espace).\n");
    return missing;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  HttpResponse r;
  r.status = 200;
  r.content_type = ContentTypeOf(rel);
  r.body = bytes.str();
  // Vite names the assets by their content hash: they never change under one name.
  r.SetHeader("Cache-Control",
              rel.rfind("assets/", 0) == 0 ? "public, max-age=31536000, immutable" : "no-cache");
  Harden(r);
  return r;
}

// {"actor":"patient","ins":"..."} or {"actor":"guardian","id":"...","guardian_of":["INS"...]}:
// a token for that development identity, signed with the development key. The token is in
// the answer's body only (never a URL, never logged).
HttpResponse Espace::DevLogin(const HttpRequest& req) const {
  auto body = ParseJson(req.body);
  if (!body.ok() || !body->is_object())
    return JsonError(400, "the body is a JSON object: actor, ins, guardian_of");
  profiles::DevTokenRequest t;
  t.actor = body->GetString("actor");
  t.ttl_s = options_.token_ttl_s;
  std::string ins = body->GetString("ins");
  if (t.actor == "patient") {
    if (!DigitsOnly(ins, 13, 15)) return JsonError(400, "ins: the patient's INS (13 to 15 digits)");
    t.patient_ins = ins;
    t.id = "patient-" + ins;
  } else if (t.actor == "guardian") {
    if (const JsonValue* list = body->Find("guardian_of"); list && list->is_array())
      for (const auto& v : list->items())
        if (v.is_string()) t.guardian_of.push_back(v.text());
    if (t.guardian_of.empty() || t.guardian_of.size() > 10)
      return JsonError(400, "guardian_of: the INS of one to ten children");
    for (const auto& child : t.guardian_of)
      if (!DigitsOnly(child, 13, 15)) return JsonError(400, "guardian_of: INS of 13 to 15 digits");
    if (!ins.empty()) {
      if (!DigitsOnly(ins, 13, 15))
        return JsonError(400, "ins: the guardian's INS (13 to 15 digits)");
      t.patient_ins = ins;
    }
    t.id = "guardian-" + (ins.empty() ? t.guardian_of.front() : ins);
  } else {
    return JsonError(400, "actor: patient or guardian");
  }
  auto token = profiles::MintDevToken(options_.keys_dir, t);
  if (!token.ok()) return JsonError(500, "the development key is unavailable");
  return JsonAnswer(200, "{\"token\":\"" + JsonEscape(*token) + "\",\"actor\":\"" + t.actor +
                             "\",\"expires_in\":" + std::to_string(t.ttl_s) + "}");
}

}  // namespace carnet
