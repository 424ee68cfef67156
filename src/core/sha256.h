// SHA-256 digests as lowercase hex, as the manifests store them.
#pragma once

#include <cstddef>
#include <string>

namespace bsnpu {

std::string sha256_hex(const void* data, size_t size);

// The digest of data given in pieces (e.g. every frame of a trace, without holding them all).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  // The digest of everything given so far; the object takes no more data after it.
  std::string hex();

 private:
  void* context_;  // EVP_MD_CTX
};

}  // namespace bsnpu
