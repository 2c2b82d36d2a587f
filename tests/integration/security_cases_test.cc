// The security digest as data (issue 13): every file of tests/data/security/ is one gtest case,
// run against ONE live gateway. A file names its case and the digest numbers it covers, mints
// its actors' tokens, seeds what it needs through the API and sends hostile requests, each
// followed by what the answer must be: status, JSON properties, headers, strings the body must
// not carry, XDS error codes, and "same-as" the answer to a twin request (a hidden resource and
// one that does not exist must answer alike). tests/data/security/README.md is the format.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

#include "base/json.h"
#include "base/strings.h"
#include "profiles/dev_token.h"
#include "profiles/jwt.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kCaseDir = fs::path(CARNET_SOURCE_DIR) / "tests" / "data" / "security";

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(kCaseDir))
    if (e.path().extension() == ".http") files.push_back(fs::relative(e.path(), kCaseDir).string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

// C escapes of @raw and @repeat: \n \r \t \0 \\ \xHH.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    if (c == 'n')
      out += '\n';
    else if (c == 'r')
      out += '\r';
    else if (c == 't')
      out += '\t';
    else if (c == '0')
      out += '\0';
    else if (c == 'x' && i + 2 < s.size() + 1) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else
      out += c;
  }
  return out;
}

long long Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A token the gateway must refuse, made from a development token's claims (security.md,
// case 5): MODES is a comma-separated list of alg-none, hs256-public-key (the algorithm
// confusion attack), stranger-key (a key the gateway does not know), payload-changed (signed,
// then a claim changed), or claim=value (a claim replaced, e.g. exp=-1, aud=another).
Result<std::string> ForgeToken(const std::string& modes, const std::vector<std::string>& args) {
  auto request = profiles::ParseDevTokenArgs(args);
  if (!request.ok()) return request.status();
  JsonValue claims = profiles::DevTokenClaims(*request);
  auto dev = profiles::SigningKey::LoadOrCreateDevKey(TestKeysDir());
  if (!dev.ok()) return dev.status();
  std::string header_alg, key = "dev";
  bool payload_changed = false;
  std::stringstream list(modes);
  for (std::string mode; std::getline(list, mode, ',');) {
    if (auto eq = mode.find('='); eq != std::string::npos) {
      std::string name = mode.substr(0, eq), value = mode.substr(eq + 1);
      bool number =
          !value.empty() && value.find_first_not_of("-0123456789.e+") == std::string::npos;
      if (value.rfind("now", 0) == 0) {  // now+600, now-3600
        value = std::to_string(Now() + std::stoll(value.size() > 3 ? value.substr(3) : "0"));
        number = true;
      }
      claims.Set(name, number ? JsonValue::Number(value) : JsonValue::String(value));
    } else if (mode == "alg-none" || mode == "hs256-public-key") {
      header_alg = mode;
    } else if (mode == "stranger-key") {
      key = "stranger";
    } else if (mode == "payload-changed") {
      payload_changed = true;
    } else {
      return BadRequest("unknown forge mode " + mode);
    }
  }
  auto encode = [](const JsonValue& v) { return profiles::Base64UrlEncode(WriteJson(v)); };
  if (!header_alg.empty()) {
    JsonValue header = JsonValue::Object();
    header.Set("alg", JsonValue::String(header_alg == "alg-none" ? "none" : "HS256"));
    header.Set("typ", JsonValue::String("JWT"));
    header.Set("kid", JsonValue::String(dev->kid()));
    std::string input = encode(header) + "." + encode(claims);
    if (header_alg == "alg-none") return input + ".";
    std::string secret = PublicKeyPem(*dev);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
    return input + "." +
           profiles::Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len));
  }
  Result<std::string> token = key == "dev" ? dev->Sign(claims) : [&]() -> Result<std::string> {
    auto stranger = profiles::SigningKey::GenerateRsa(2048);
    if (!stranger.ok()) return stranger.status();
    return stranger->Sign(claims);
  }();
  if (!token.ok() || !payload_changed) return token;
  size_t first = token->find('.'), second = token->find('.', first + 1);
  claims.Set("actor", JsonValue::String("operator"));
  return token->substr(0, first + 1) + encode(claims) + token->substr(second);
}

// A dotted path into a JSON answer: "issue.0.code", "entry.length" (an array's size).
const JsonValue* JsonAt(const JsonValue& root, const std::string& path, std::string* length) {
  const JsonValue* at = &root;
  std::stringstream parts(path);
  for (std::string part; std::getline(parts, part, '.');) {
    if (!at) return nullptr;
    if (part == "length" && at->is_array()) {
      *length = std::to_string(at->items().size());
      return at;
    }
    if (at->is_array()) {
      size_t i =
          part.find_first_not_of("0123456789") == std::string::npos ? std::stoul(part) : ~0ul;
      at = i < at->items().size() ? &at->items()[i] : nullptr;
    } else if (at->is_object()) {
      at = at->Find(part);
    } else {
      return nullptr;
    }
  }
  return at;
}

std::string JsonText(const JsonValue& v) {
  return v.is_string() || v.is_number() ? v.text() : WriteJson(v);
}

struct Answer {
  HttpResult result;
  std::vector<std::string> used_values;  // values of the variables the request used, in order
  long elapsed_ms = 0;
};

// The body of an answer with what legitimately differs between twins masked: the request id,
// the values of the variables the request used (by position: the twin's k-th value is masked
// the same), UUIDs and instants.
std::string Normalised(const Answer& a) {
  std::string body = a.result.body;
  auto replace_all = [&](const std::string& from, const std::string& to) {
    if (from.size() < 3) return;  // "1" would garble everything
    for (size_t at = body.find(from); at != std::string::npos; at = body.find(from, at + to.size()))
      body.replace(at, from.size(), to);
  };
  if (auto rid = a.result.headers.find("x-request-id"); rid != a.result.headers.end())
    replace_all(rid->second, "<request-id>");
  // A multipart answer (ITI-43) has its own boundary and part ids.
  if (auto type = a.result.headers.find("content-type"); type != a.result.headers.end())
    if (std::smatch m; std::regex_search(type->second, m, std::regex("boundary=\"?([^\";]+)")))
      replace_all(m[1], "<boundary>");
  body = std::regex_replace(body, std::regex("Content-ID: <[^>]*>"), "Content-ID: <part>");
  std::vector<std::pair<std::string, std::string>> vars;
  for (size_t i = 0; i < a.used_values.size(); ++i)
    vars.push_back({a.used_values[i], "<var-" + std::to_string(i) + ">"});
  std::stable_sort(vars.begin(), vars.end(),
                   [](const auto& x, const auto& y) { return x.first.size() > y.first.size(); });
  for (const auto& [from, to] : vars) replace_all(from, to);
  static const std::regex uuid(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  static const std::regex instant("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?");
  body = std::regex_replace(body, uuid, "<uuid>");
  return std::regex_replace(body, instant, "<instant>");
}

// A loopback port that counts the connections made to it (and closes them): a case points a
// reference, an entity or an href at it and checks that the gateway never connected.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int client = accept(fd_, nullptr, nullptr);
        if (client >= 0) {
          ++connections_;
          close(client);
        }
      }
    });
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// Runs one case file. Failures name the file and line.
class CaseRunner {
 public:
  CaseRunner(std::string base_url, pid_t gateway_pid, const fs::path& file)
      : base_url_(std::move(base_url)), gateway_pid_(gateway_pid), file_(file) {
    vars_["run"] = RandomHex(8);
    vars_["runnum"] = std::to_string(10000000 + std::stoll(RandomHex(6), nullptr, 16) % 89999999);
  }

  // Reads the file (with its includes) into lines; the header fields are known after it.
  void Load() { Include(file_, 0); }

  const std::string& title() const { return title_; }
  const std::string& pending() const { return pending_; }
  const std::vector<std::string>& covered_by() const { return covered_by_; }
  bool has_digest() const { return has_digest_; }
  int requests() const { return requests_; }

  void Run() {
    size_t i = 0;
    while (i < lines_.size()) {
      const std::string& line = lines_[i].text;
      where_ = lines_[i].where;
      auto w = Words(line);
      if (w.empty() || line[0] == '#') {
        ++i;
      } else if (w[0] == "request") {
        i = RunRequest(i);
      } else if (w[0] == "set" && w.size() >= 2) {
        size_t value_at = line.find(w[1]) + w[1].size();
        std::string value = Trim(line.substr(value_at));
        if (value.rfind("@repeat ", 0) == 0) value = Repeat(value);
        vars_[w[1]] = Expand(value, nullptr);
        ++i;
      } else if (w[0] == "actor" && w.size() >= 2) {
        DefineActor(w);
        ++i;
      } else if (w[0] == "listen" && w.size() == 2) {
        listeners_[w[1]] = std::make_unique<Listener>();
        vars_[w[1]] = std::to_string(listeners_[w[1]]->port());
        ++i;
      } else if (w[0] == "case" || w[0] == "digest" || w[0] == "review" || w[0] == "pending" ||
                 w[0] == "covered-by") {
        ++i;
      } else {
        ADD_FAILURE() << where_ << ": unknown directive '" << w[0] << "'";
        ++i;
      }
    }
  }

 private:
  struct Line {
    std::string text;
    std::string where;  // file:line
  };

  void Include(const fs::path& path, int depth) {
    if (depth > 4 || !fs::exists(path)) {
      ADD_FAILURE() << "cannot include " << path;
      return;
    }
    std::istringstream in(ReadFile(path));
    std::string name = fs::relative(path, kCaseDir).string();
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto w = Words(line);
      if (!w.empty() && w[0] == "include" && w.size() == 2) {
        Include(kCaseDir / w[1], depth + 1);
        continue;
      }
      if (depth == 0 && !w.empty()) {
        std::string rest = Trim(line.substr(line.find(w[0]) + w[0].size()));
        if (w[0] == "case") title_ = rest;
        if (w[0] == "digest" || w[0] == "review") has_digest_ = true;
        if (w[0] == "pending") pending_ = rest.empty() ? "pending" : rest;
        if (w[0] == "covered-by") covered_by_.push_back(rest);
        if (w[0] == "request") ++requests_;
      }
      lines_.push_back({line, name + ":" + std::to_string(n)});
    }
    lines_.push_back({"", name + ":end"});  // a file's last expectations end with it
  }

  // ${name}: a variable; ${uuid}, ${oid}: fresh values. The values used are appended to `used`.
  std::string Expand(const std::string& text, std::vector<std::string>* used) {
    std::string out;
    size_t pos = 0;
    while (true) {
      size_t open = text.find("${", pos);
      if (open == std::string::npos) break;
      size_t close = text.find('}', open);
      if (close == std::string::npos) break;
      out += text.substr(pos, open - pos);
      std::string name = text.substr(open + 2, close - open - 2), value;
      if (name == "uuid") {
        value = NewUuid();
      } else if (name == "oid") {
        value = "1.2.250.1.999.13." + std::to_string(std::stoll(RandomHex(7), nullptr, 16));
      } else if (auto it = vars_.find(name); it != vars_.end()) {
        value = it->second;
      } else {
        ADD_FAILURE() << where_ << ": unknown variable ${" << name << "}";
      }
      if (used && std::find(used->begin(), used->end(), value) == used->end())
        used->push_back(value);
      out += value;
      pos = close + 1;
    }
    return out + text.substr(pos);
  }

  // "@repeat N TEXT": TEXT (with C escapes) N times.
  static std::string Repeat(const std::string& line) {
    auto w = Words(line);
    size_t n = w.size() > 1 ? std::stoul(w[1]) : 0;
    std::string text =
        w.size() > 2 ? Unescape(Trim(line.substr(line.find(w[1], 8) + w[1].size()))) : "";
    std::string out;
    out.reserve(n * text.size());
    for (size_t k = 0; k < n; ++k) out += text;
    return out;
  }

  void DefineActor(const std::vector<std::string>& w) {
    std::vector<std::string> args;
    // "" is an empty argument (an emergency without its reason).
    for (size_t k = 2; k < w.size(); ++k)
      args.push_back(w[k] == "\"\"" ? "" : Expand(w[k], nullptr));
    if (args.size() >= 1 && args[0] == "raw") {
      actors_[w[1]] = args.size() > 1 ? args[1] : "";
    } else if (args.size() >= 2 && args[0] == "forge") {
      auto token = ForgeToken(args[1], {args.begin() + 2, args.end()});
      if (!token.ok()) ADD_FAILURE() << where_ << ": " << token.status().ToString();
      actors_[w[1]] = token.ok() ? *token : "";
    } else {
      actors_[w[1]] = Token(args);
    }
  }

  size_t RunRequest(size_t i) {
    auto head = Words(lines_[i].text);
    std::string name = head.size() > 1 ? head[1] : "";
    std::string actor = "none";
    bool crlf = false;
    for (size_t k = 2; k < head.size(); ++k) {
      if (head[k] == "as" && k + 1 < head.size())
        actor = head[++k];
      else if (head[k] == "crlf")
        crlf = true;
    }
    Answer answer;
    ++i;
    if (i >= lines_.size()) {
      ADD_FAILURE() << where_ << ": request without a request line";
      return i;
    }
    auto request_line = Words(lines_[i].text);
    std::string method = request_line.empty() ? "" : request_line[0];
    std::string path = request_line.size() > 1 ? Expand(request_line[1], &answer.used_values) : "";
    std::vector<std::string> headers;
    std::string body;
    bool in_body = false, first_body_line = true, last_glued = false;
    for (++i; i < lines_.size() && lines_[i].text != "----"; ++i) {
      const std::string& l = lines_[i].text;
      if (!in_body) {
        if (l.empty())
          in_body = true;
        else
          headers.push_back(Expand(l, &answer.used_values));
        continue;
      }
      std::string piece;
      bool joined = true;
      if (l.rfind("< ", 0) == 0) {
        piece = Expand(ReadFile(kCaseDir / Trim(l.substr(2))), &answer.used_values);
      } else if (l.rfind("@repeat ", 0) == 0) {
        piece = Repeat(l);
        joined = false;
      } else if (l.rfind("@raw ", 0) == 0) {
        piece = Unescape(l.substr(5));
        joined = false;
      } else {
        piece = Expand(l, &answer.used_values);
      }
      // @repeat and @raw pieces are glued to the lines on both sides.
      if (!first_body_line && joined && !last_glued) body += crlf ? "\r\n" : "\n";
      body += piece;
      first_body_line = false;
      last_glued = !joined;
    }
    if (i >= lines_.size()) {
      ADD_FAILURE() << where_ << ": request " << name << " has no '----' line";
      return i;
    }
    std::string request_where = where_;
    HttpClient client;
    if (actor == "none") {
      client.SetBearer("");
    } else if (auto it = actors_.find(actor); it != actors_.end()) {
      client.SetBearer(it->second);
    } else {
      ADD_FAILURE() << where_ << ": unknown actor " << actor;
    }
    auto start = std::chrono::steady_clock::now();
    answer.result = client.Request(method, base_url_ + path, headers, body, 60000);
    answer.elapsed_ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - start)
                                              .count());
    // The expectations, up to a blank line.
    for (++i; i < lines_.size() && !Trim(lines_[i].text).empty(); ++i) {
      where_ = lines_[i].where;
      if (lines_[i].text[0] == '#') continue;
      Expect(name, method + " " + path, answer, lines_[i].text);
    }
    answers_[name] = std::move(answer);
    return i;
  }

  void Expect(const std::string& name, const std::string& request, const Answer& a,
              const std::string& line) {
    auto w = Words(line);
    const HttpResult& r = a.result;
    std::string context = where_ + " (request " + name + ": " + request + " -> " +
                          std::to_string(r.status) + " " + r.body.substr(0, 600) + ")";
    auto rest_after = [&](size_t words) {
      size_t at = 0;
      for (size_t k = 0; k < words; ++k) at = line.find(w[k], at) + w[k].size();
      return Expand(Trim(line.substr(at)), nullptr);
    };
    if (w[0] == "status") {
      std::string got = std::to_string(r.status);
      bool any = false;
      for (size_t k = 1; k < w.size(); ++k) any = any || w[k] == got;
      EXPECT_TRUE(any) << "status " << got << ", expected " << rest_after(1) << "\n" << context;
    } else if (w[0] == "connections" && w.size() == 3) {
      auto it = listeners_.find(w[1]);
      if (it == listeners_.end()) {
        ADD_FAILURE() << where_ << ": no listener " << w[1];
        return;
      }
      EXPECT_EQ(it->second->connections(), std::stoi(w[2]))
          << "connections to " << w[1] << " (port " << it->second->port() << ")\n"
          << context;
    } else if (w[0] == "peak-rss-below" && w.size() == 2) {
      // The gateway's peak resident memory so far (VmHWM), in MiB: bounded memory.
      std::istringstream status(ReadFile("/proc/" + std::to_string(gateway_pid_) + "/status"));
      long kib = -1;
      for (std::string l; std::getline(status, l);)
        if (l.rfind("VmHWM:", 0) == 0) kib = std::stol(l.substr(6));
      EXPECT_GE(kib, 0) << "no VmHWM for the gateway";
      EXPECT_LT(kib / 1024, std::stol(w[1])) << "peak RSS " << kib / 1024 << " MiB\n" << context;
    } else if (w[0] == "within" && w.size() == 2) {
      EXPECT_LE(a.elapsed_ms, std::stol(w[1])) << context;
    } else if (w[0] == "body" && w.size() >= 2 && (w[1] == "~" || w[1] == "!~")) {
      std::string text = rest_after(2);
      bool found = r.body.find(text) != std::string::npos;
      EXPECT_EQ(found, w[1] == "~") << "body " << w[1] << " '" << text << "'\n" << context;
    } else if (w[0] == "header" && w.size() >= 3) {
      std::string h = w[1];
      std::transform(h.begin(), h.end(), h.begin(), ::tolower);
      auto it = r.headers.find(h);
      if (w[2] == "absent")
        EXPECT_TRUE(it == r.headers.end()) << h << " present\n" << context;
      else if (w[2] == "present")
        EXPECT_TRUE(it != r.headers.end()) << h << " absent\n" << context;
      else if (it == r.headers.end())
        ADD_FAILURE() << h << " absent\n" << context;
      else if (w[2] == "=")
        EXPECT_EQ(it->second, rest_after(3)) << context;
      else if (w[2] == "~")
        EXPECT_NE(it->second.find(rest_after(3)), std::string::npos) << it->second << "\n"
                                                                     << context;
      else
        ADD_FAILURE() << where_ << ": header NAME present|absent|= V|~ V";
    } else if (w[0] == "json" && w.size() >= 3) {
      auto json = ParseJson(r.body);
      if (!json.ok()) {
        ADD_FAILURE() << "not JSON\n" << context;
        return;
      }
      std::string length;
      const JsonValue* v = JsonAt(*json, w[1], &length);
      std::string got = !length.empty() ? length : v ? JsonText(*v) : "";
      if (w[2] == "absent")
        EXPECT_TRUE(v == nullptr) << w[1] << " = " << got << "\n" << context;
      else if (w[2] == "present")
        EXPECT_TRUE(v != nullptr) << w[1] << " absent\n" << context;
      else if (!v)
        ADD_FAILURE() << w[1] << " absent\n" << context;
      else if (w[2] == "=")
        EXPECT_EQ(got, rest_after(3)) << w[1] << "\n" << context;
      else if (w[2] == "~")
        EXPECT_NE(got.find(rest_after(3)), std::string::npos) << w[1] << " = " << got << "\n"
                                                              << context;
      else if (w[2] == "!~")
        EXPECT_EQ(got.find(rest_after(3)), std::string::npos) << w[1] << " = " << got << "\n"
                                                              << context;
      else
        ADD_FAILURE() << where_ << ": json PATH present|absent|= V|~ V|!~ V";
    } else if (w[0] == "fault") {
      static const std::regex fault("<([A-Za-z0-9_]+:)?Fault[ >]");
      EXPECT_TRUE(std::regex_search(r.body, fault)) << "no SOAP Fault\n" << context;
    } else if (w[0] == "xds-error" && w.size() == 2) {
      EXPECT_NE(r.body.find("errorCode=\"" + w[1] + "\""), std::string::npos)
          << "no RegistryError " << w[1] << "\n"
          << context;
    } else if (w[0] == "xds-status" && w.size() == 2) {
      EXPECT_NE(r.body.find("ResponseStatusType:" + w[1] + "\""), std::string::npos)
          << "status not " << w[1] << "\n"
          << context;
    } else if (w[0] == "capture" && w.size() >= 4) {
      Capture(w, rest_after(3), r, context);
    } else if (w[0] == "same-as" && w.size() == 2) {
      auto other = answers_.find(w[1]);
      if (other == answers_.end()) {
        ADD_FAILURE() << where_ << ": no earlier request " << w[1];
        return;
      }
      const HttpResult& o = other->second.result;
      EXPECT_EQ(r.status, o.status) << "status differs from " << w[1] << "\n" << context;
      auto type = [](const HttpResult& x) {
        auto it = x.headers.find("content-type");
        static const std::regex mime_ids("(boundary|start)=(\"[^\"]*\"|[^;]*)");
        return it == x.headers.end() ? std::string()
                                     : std::regex_replace(it->second, mime_ids, "$1=<id>");
      };
      EXPECT_EQ(type(r), type(o)) << "Content-Type differs from " << w[1] << "\n" << context;
      EXPECT_EQ(Normalised(a), Normalised(other->second))
          << "body differs from " << w[1] << " (normalised)\n"
          << context;
    } else {
      ADD_FAILURE() << where_ << ": unknown expectation '" << line << "'";
    }
  }

  void Capture(const std::vector<std::string>& w, const std::string& what, const HttpResult& r,
               const std::string& context) {
    std::string value;
    if (w[2] == "json") {
      auto json = ParseJson(r.body);
      std::string length;
      const JsonValue* v = json.ok() ? JsonAt(*json, what, &length) : nullptr;
      if (v) value = length.empty() ? JsonText(*v) : length;
    } else if (w[2] == "header") {
      std::string h = what;
      std::transform(h.begin(), h.end(), h.begin(), ::tolower);
      if (auto it = r.headers.find(h); it != r.headers.end()) value = it->second;
    } else if (w[2] == "regex") {
      std::smatch m;
      if (std::regex_search(r.body, m, std::regex(what)) && m.size() > 1) value = m[1];
    }
    EXPECT_FALSE(value.empty()) << "nothing to capture as " << w[1] << "\n" << context;
    vars_[w[1]] = value;
  }

  std::string base_url_;
  pid_t gateway_pid_;
  fs::path file_;
  std::vector<Line> lines_;
  std::string where_;
  std::string title_, pending_;
  std::vector<std::string> covered_by_;
  bool has_digest_ = false;
  int requests_ = 0;
  std::map<std::string, std::string> vars_;
  std::map<std::string, std::string> actors_;
  std::map<std::string, Answer> answers_;
  std::map<std::string, std::unique_ptr<Listener>> listeners_;
};

class SecurityCaseTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    // 8 MiB instead of the 64 MiB default: case 3 sends bodies over the limit.
    gateway_ = new GatewayProcess({"--max-request-size", std::to_string(kMaxRequestBytes)});
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }
  static constexpr long kMaxRequestBytes = 8 * 1024 * 1024;
  static GatewayProcess* gateway_;
};

GatewayProcess* SecurityCaseTest::gateway_ = nullptr;

TEST_P(SecurityCaseTest, Holds) {
  ASSERT_NE(gateway_, nullptr);
  ASSERT_TRUE(gateway_->running()) << "the gateway died during an earlier case\n"
                                   << gateway_->Log();
  CaseRunner runner(gateway_->base_url(), gateway_->pid(), kCaseDir / GetParam());
  runner.Load();
  ASSERT_FALSE(runner.title().empty()) << GetParam() << ": no 'case' line";
  ASSERT_TRUE(runner.has_digest()) << GetParam() << ": no 'digest' or 'review' line";
  // CARNET_SECURITY_PENDING=1 runs the pending cases too (to see which fixes have landed).
  if (!runner.pending().empty() && !std::getenv("CARNET_SECURITY_PENDING"))
    GTEST_SKIP() << GetParam() << " is pending: " << runner.pending();
  // A case run by a C++ test (it needs process control): the test must exist.
  for (const std::string& ref : runner.covered_by()) {
    auto w = Words(ref);
    ASSERT_EQ(w.size(), 2u) << "covered-by FILE Suite.Test";
    std::string source = ReadFile(fs::path(CARNET_SOURCE_DIR) / w[0]);
    auto dot = w[1].find('.');
    ASSERT_NE(dot, std::string::npos) << ref;
    std::regex test("TEST(_F|_P)?\\(" + w[1].substr(0, dot) + ",\\s*" + w[1].substr(dot + 1) +
                    "\\)");
    EXPECT_TRUE(std::regex_search(source, test)) << "no test " << w[1] << " in " << w[0];
  }
  ASSERT_TRUE(runner.requests() > 0 || !runner.covered_by().empty())
      << GetParam() << ": no request and no covered-by";
  runner.Run();
  EXPECT_TRUE(gateway_->running()) << "the gateway died\n" << gateway_->Log();
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).replace_extension().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Files, SecurityCaseTest, ::testing::ValuesIn(CaseFiles()), CaseName);

// Case 19 (tests/data/security/19-kill-under-write-load.http): two writers create Patients
// as fast as they can; the gateway is killed with SIGKILL in the middle; a new gateway on the
// same database must hold every write that was acknowledged (201) before the kill.
TEST(SecurityProcessTest, AcknowledgedWritesSurviveKillNine) {
  auto gateway = std::make_unique<GatewayProcess>();
  ASSERT_TRUE(gateway->WaitHealthy()) << gateway->Log();
  std::string run = RandomHex(6), url = gateway->base_url();
  std::atomic<bool> stop{false};
  std::vector<std::vector<std::string>> acknowledged(2);
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t)
    writers.emplace_back([&, t] {
      HttpClient client;
      for (int i = 0; !stop; ++i) {
        std::string id = "kill-" + run + "-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = client.Request(
            "PUT", url + "/fhir/Patient/" + id, {"Content-Type: application/fhir+json"},
            R"({"resourceType":"Patient","id":")" + id + R"(","birthDate":"1970-01-01"})", 5000);
        if (r.status == 201) acknowledged[t].push_back(id);
        if (r.status == 0) break;  // the gateway is gone
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  gateway->Kill();
  stop = true;
  for (auto& w : writers) w.join();
  gateway = std::make_unique<GatewayProcess>();
  ASSERT_TRUE(gateway->WaitHealthy()) << gateway->Log();
  HttpClient client;
  size_t total = 0;
  for (const auto& ids : acknowledged)
    for (const std::string& id : ids) {
      ++total;
      EXPECT_EQ(client.Get(gateway->base_url() + "/fhir/Patient/" + id).status, 200)
          << id << " was acknowledged before the kill";
    }
  EXPECT_GE(total, 10u) << "too few writes before the kill to mean anything";
}

}  // namespace
}  // namespace carnet::testing
