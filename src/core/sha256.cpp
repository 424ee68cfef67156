#include "core/sha256.h"

#include <openssl/evp.h>

#include "core/error.h"

namespace bsnpu {

namespace {

EVP_MD_CTX* context_of(void* context) { return static_cast<EVP_MD_CTX*>(context); }

}  // namespace

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (!context_ || EVP_DigestInit_ex(context_of(context_), EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(context_of(context_));
    throw Error("sha256: OpenSSL digest failed");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_of(context_)); }

void Sha256::update(const void* data, size_t size) {
  if (EVP_DigestUpdate(context_of(context_), data, size) != 1) {
    throw Error("sha256: OpenSSL digest failed");
  }
}

std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_of(context_), digest, &length) != 1) {
    throw Error("sha256: OpenSSL digest failed");
  }
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string sha256_hex(const void* data, size_t size) {
  Sha256 digest;
  digest.update(data, size);
  return digest.hex();
}

}  // namespace bsnpu
