// SHA-256 digests as lowercase hex, as the manifests store them.
#pragma once

#include <cstddef>
#include <string>

namespace bsnpu {

std::string sha256_hex(const void* data, size_t size);

}  // namespace bsnpu
