#include "server/tls_identity.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <vector>

namespace carnet {

struct TlsIdentity::Loaded {
  std::shared_ptr<X509> leaf;
  std::vector<std::shared_ptr<X509>> chain;
  std::shared_ptr<EVP_PKEY> key;
  std::string subject;
};

namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no PEM data";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

Status TlsIdentity::Load(const std::string& cert_file, const std::string& key_file) {
  auto loaded = std::make_shared<Loaded>();
  std::unique_ptr<BIO, decltype(&BIO_free)> certs(BIO_new_file(cert_file.c_str(), "r"), &BIO_free);
  if (!certs) return BadRequest("tls_cert_file " + cert_file + ": cannot be read");
  while (X509* x = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    std::shared_ptr<X509> cert(x, &X509_free);
    if (!loaded->leaf)
      loaded->leaf = cert;
    else
      loaded->chain.push_back(cert);
  }
  ERR_clear_error();  // the end of the file reads as an error
  if (!loaded->leaf) return BadRequest("tls_cert_file " + cert_file + ": no PEM certificate");
  std::unique_ptr<BIO, decltype(&BIO_free)> keys(BIO_new_file(key_file.c_str(), "r"), &BIO_free);
  if (!keys) return BadRequest("tls_key_file " + key_file + ": cannot be read");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(keys.get(), nullptr, nullptr, nullptr);
  if (!key) return BadRequest("tls_key_file " + key_file + ": " + OpenSslError());
  loaded->key.reset(key, &EVP_PKEY_free);
  if (X509_check_private_key(loaded->leaf.get(), key) != 1) {
    ERR_clear_error();
    return BadRequest("tls_key_file " + key_file + " is not the key of the certificate in " +
                      cert_file);
  }
  char line[512] = {0};
  X509_NAME_oneline(X509_get_subject_name(loaded->leaf.get()), line, sizeof line - 1);
  loaded->subject = line;
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(loaded);
  return Status::Ok();
}

std::shared_ptr<const TlsIdentity::Loaded> TlsIdentity::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

std::string TlsIdentity::subject() const {
  auto c = Current();
  return c ? c->subject : "";
}

int TlsIdentity::CertCallback(SSL* ssl, void* arg) {
  auto identity = static_cast<const TlsIdentity*>(arg)->Current();
  if (!identity) return 1;  // the context's own certificate
  // Each call takes its own references: the identity may be replaced while this handshake
  // goes on.
  if (SSL_use_certificate(ssl, identity->leaf.get()) != 1 ||
      SSL_use_PrivateKey(ssl, identity->key.get()) != 1)
    return 0;
  STACK_OF(X509)* chain = sk_X509_new_null();
  if (!chain) return 0;
  for (const auto& c : identity->chain) sk_X509_push(chain, c.get());
  int ok = SSL_set1_chain(ssl, chain);
  sk_X509_free(chain);
  return ok == 1 ? 1 : 0;
}

void TlsIdentity::InstallOn(SSL_CTX* ctx) { SSL_CTX_set_cert_cb(ctx, &CertCallback, this); }

}  // namespace carnet
