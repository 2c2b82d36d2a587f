// The patient's web space ("Mon espace santé", issue 18): the built page (espace/, built by
// the CMake target `espace` into build/espace) served under /espace/ with a strict
// Content-Security-Policy (no inline script, nothing from another origin), X-Frame-Options
// DENY and nosniff; and, only when the gateway runs with dev_login (`./carnet serve`), the
// development login POST /espace/dev-login that mints a patient's or guardian's token with
// the development key (profiles/dev_token.h). The page then talks to /fhir with that token.
#pragma once

#include <string>

#include "base/http.h"

namespace carnet {

struct EspaceOptions {
  std::string dir;         // the built files (index.html, assets/)
  bool dev_login = false;  // serve POST /espace/dev-login (never in production)
  std::string keys_dir;    // data directory whose keys/ sign development tokens
  long long token_ttl_s = 3600;
};

// The CSP every answer under /espace/ carries.
extern const char kEspaceCsp[];

class Espace {
 public:
  explicit Espace(EspaceOptions options) : options_(std::move(options)) {}
  // Whether `path` is the web space's (/espace or below).
  static bool Owns(const std::string& path);
  HttpResponse Handle(const HttpRequest& req) const;

 private:
  HttpResponse DevLogin(const HttpRequest& req) const;
  HttpResponse File(const HttpRequest& req, const std::string& relative) const;
  EspaceOptions options_;
};

// The folder of the built page next to the running binary (build/espace).
std::string DefaultEspaceDir();

}  // namespace carnet
