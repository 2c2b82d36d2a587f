// A TLS listener's certificate chain and private key, replaceable while serving: a new one
// (SIGHUP after the files were renewed) is handed to every handshake that starts afterwards,
// connections already open keep theirs, and nothing restarts.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace carnet {

class TlsIdentity {
 public:
  // Reads the certificate chain (PEM: the server's certificate first, then its chain) and the
  // private key (PEM), checks that they belong together, and makes them current. On any error
  // the current identity stays as it was (kBadRequest naming the file and the problem).
  Status Load(const std::string& cert_file, const std::string& key_file);
  // From now on every handshake on `ctx` presents the current identity (OpenSSL's certificate
  // callback). `this` must outlive `ctx`'s connections.
  void InstallOn(SSL_CTX* ctx);
  // The current certificate's subject (one line), for the log.
  std::string subject() const;

 private:
  struct Loaded;
  static int CertCallback(SSL* ssl, void* arg);
  std::shared_ptr<const Loaded> Current() const;
  mutable std::mutex mu_;
  std::shared_ptr<const Loaded> current_;
};

}  // namespace carnet
