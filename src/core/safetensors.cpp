#include "core/safetensors.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

#include "core/error.h"
#include "core/json_fields.h"

namespace bsnpu {

namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;
constexpr int64_t kMaxDim = int64_t{1} << 40;
constexpr size_t kMaxRank = 16;

// The product of the dims, or false if a dim is negative or the product overflows int64.
bool checked_elements(const std::vector<int64_t>& shape, int64_t* count) {
  int64_t product = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || __builtin_mul_overflow(product, dim, &product)) return false;
  }
  *count = product;
  return true;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

uint64_t little_endian_u64(const uint8_t* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// The header length must leave room in the file and stay below a sane limit.
void check_header_length(const std::string& path, uint64_t header_length, uint64_t file_bytes) {
  if (header_length > file_bytes - 8) {
    throw Error(path + ": header length " + std::to_string(header_length) +
                " exceeds the file size " + std::to_string(file_bytes));
  }
  if (header_length > kMaxHeaderBytes) {
    throw Error(path + ": header length " + std::to_string(header_length) + " exceeds the " +
                std::to_string(kMaxHeaderBytes) + "-byte limit of a safetensors header");
  }
}

void check_file_size(const std::string& path, uint64_t file_bytes) {
  if (file_bytes < 8) {
    throw Error(path + ": truncated safetensors file (" + std::to_string(file_bytes) +
                " bytes, no header length)");
  }
}

// An integer in [0, high], else nullopt-like false.
bool unsigned_integer(const json& value, uint64_t high, uint64_t* out) {
  if (!value.is_number_integer()) return false;
  if (value.is_number_unsigned()) {
    *out = value.get<uint64_t>();
  } else {
    const int64_t signed_value = value.get<int64_t>();
    if (signed_value < 0) return false;
    *out = static_cast<uint64_t>(signed_value);
  }
  return *out <= high;
}

}  // namespace

int64_t TensorView::elements() const {
  int64_t count = 0;
  if (!checked_elements(shape, &count)) {
    throw Error("tensor shape " + shape_text(shape) + " has no int64 element count");
  }
  return count;
}

size_t dtype_size(const std::string& dtype) {
  if (dtype == "U8" || dtype == "I8" || dtype == "BOOL") return 1;
  if (dtype == "I16" || dtype == "U16" || dtype == "F16") return 2;
  if (dtype == "I32" || dtype == "U32" || dtype == "F32") return 4;
  if (dtype == "I64" || dtype == "U64" || dtype == "F64") return 8;
  return 0;
}

struct SafetensorsFile::Entry {
  std::string name;
  TensorView view;
  uint64_t begin = 0, end = 0;
};

std::vector<SafetensorsFile::Entry> SafetensorsFile::check_header(uint64_t header_length,
                                                                  uint64_t data_bytes) const {
  const std::string& path = path_;
  const json header = parse_json(std::string(reinterpret_cast<const char*>(blob_.data() + 8),
                                             static_cast<size_t>(header_length)),
                                 path, "corrupt safetensors header");
  if (!header.is_object()) throw Error(path + ": safetensors header is not a JSON object");
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string tensor = path + ": tensor '" + printable(name) + "'";
    const auto malformed = [&](const std::string& field, const std::string& why) {
      throw Error(tensor + ": " + field + ": " + why);
    };
    Entry entry;
    entry.name = name;
    TensorView& view = entry.view;
    if (!info.is_object()) throw Error(tensor + ": malformed header entry (not an object)");
    const auto dtype = info.find("dtype");
    if (dtype == info.end() || !dtype->is_string()) malformed("dtype", "must be a string");
    view.dtype = dtype->get<std::string>();
    const size_t width = dtype_size(view.dtype);
    if (width == 0) malformed("dtype", "unsupported dtype '" + printable(view.dtype) + "'");
    const auto shape = info.find("shape");
    if (shape == info.end() || !shape->is_array() || shape->size() > kMaxRank) {
      malformed("shape", "must be an array of at most " + std::to_string(kMaxRank) + " dims");
    }
    for (const json& dim : *shape) {
      uint64_t value = 0;
      if (!unsigned_integer(dim, static_cast<uint64_t>(kMaxDim), &value)) {
        malformed("shape", "dims must be integers in 0..2^40");
      }
      view.shape.push_back(static_cast<int64_t>(value));
    }
    const auto offsets = info.find("data_offsets");
    if (offsets == info.end() || !offsets->is_array() || offsets->size() != 2 ||
        !unsigned_integer((*offsets)[0], UINT64_MAX, &entry.begin) ||
        !unsigned_integer((*offsets)[1], UINT64_MAX, &entry.end)) {
      malformed("data_offsets", "must be two non-negative integers [begin, end]");
    }
    int64_t elements = 0;
    uint64_t bytes = 0;
    if (!checked_elements(view.shape, &elements) ||
        __builtin_mul_overflow(static_cast<uint64_t>(elements), uint64_t{width}, &bytes)) {
      malformed("shape", shape_text(view.shape) + " of " + view.dtype +
                             " overflows a 64-bit element or byte count");
    }
    if (entry.end < entry.begin || entry.end - entry.begin != bytes) {
      throw Error(tensor + ": data_offsets [" + std::to_string(entry.begin) + ", " +
                  std::to_string(entry.end) + ") do not match its shape " + shape_text(view.shape) +
                  " and dtype " + view.dtype);
    }
    if (entry.end > data_bytes) {
      throw Error(path + ": truncated: tensor '" + printable(name) + "' ends at byte " +
                  std::to_string(entry.end) + " of a " + std::to_string(data_bytes) +
                  "-byte data section");
    }
    entries.push_back(std::move(entry));
  }
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> spans;
  for (const Entry& entry : entries) spans.emplace_back(entry.begin, entry.end, entry.name);
  std::sort(spans.begin(), spans.end());
  uint64_t covered = 0;
  for (const auto& [begin, end, name] : spans) {
    if (begin != covered) {
      throw Error(path + ": tensor '" + printable(name) +
                  "' overlaps or leaves a gap in the data section at byte " +
                  std::to_string(begin));
    }
    covered = end;
  }
  if (covered != data_bytes) {
    throw Error(path + ": " + std::to_string(data_bytes - covered) +
                " trailing bytes after the last tensor (oversized or corrupt file)");
  }
  return entries;
}

void SafetensorsFile::index(const std::vector<Entry>& entries, uint64_t header_length) {
  const uint8_t* data = blob_.data() + 8 + header_length;
  for (const Entry& entry : entries) {
    TensorView view = entry.view;
    view.data = data + entry.begin;
    view.bytes = static_cast<size_t>(entry.end - entry.begin);
    tensors_[entry.name] = std::move(view);
  }
}

SafetensorsFile SafetensorsFile::load(const std::string& path) {
  const InputFile input(path);
  input.check_size(kMaxDataFileBytes, "a safetensors file");
  const uint64_t file_bytes = input.size();
  check_file_size(path, file_bytes);
  SafetensorsFile file;
  file.path_ = path;
  uint8_t prefix[8];
  input.read(0, prefix, sizeof prefix);
  const uint64_t header_length = little_endian_u64(prefix);
  check_header_length(path, header_length, file_bytes);
  // The header first, checked against the file size; the data only once it is known to fit.
  file.blob_.resize(static_cast<size_t>(8 + header_length));
  std::copy(prefix, prefix + 8, file.blob_.begin());
  input.read(8, file.blob_.data() + 8, static_cast<size_t>(header_length));
  const std::vector<Entry> entries =
      file.check_header(header_length, file_bytes - 8 - header_length);
  file.blob_.resize(static_cast<size_t>(file_bytes));
  input.read(8 + header_length, file.blob_.data() + 8 + header_length,
             static_cast<size_t>(file_bytes - 8 - header_length));
  file.index(entries, header_length);
  return file;
}

SafetensorsFile SafetensorsFile::parse(std::vector<uint8_t> bytes, const std::string& path) {
  SafetensorsFile file;
  file.path_ = path;
  file.blob_ = std::move(bytes);
  const uint64_t file_bytes = file.blob_.size();
  if (file_bytes > kMaxDataFileBytes) {
    throw Error(path + ": " + std::to_string(file_bytes) + " bytes, more than the " +
                std::to_string(kMaxDataFileBytes) + "-byte limit of a safetensors file");
  }
  check_file_size(path, file_bytes);
  const uint64_t header_length = little_endian_u64(file.blob_.data());
  check_header_length(path, header_length, file_bytes);
  file.index(file.check_header(header_length, file_bytes - 8 - header_length), header_length);
  return file;
}

const TensorView& SafetensorsFile::get(const std::string& name, const std::string& dtype,
                                       int64_t expected_elements) const {
  auto found = tensors_.find(name);
  if (found == tensors_.end()) throw Error(path_ + ": tensor '" + printable(name) + "' is missing");
  const TensorView& view = found->second;
  if (view.dtype != dtype) {
    throw Error(path_ + ": tensor '" + printable(name) + "': dtype " + view.dtype + ", expected " +
                dtype);
  }
  if (expected_elements >= 0 && view.elements() != expected_elements) {
    throw Error(path_ + ": tensor '" + printable(name) + "': " + std::to_string(view.elements()) +
                " elements, expected " + std::to_string(expected_elements));
  }
  return view;
}

}  // namespace bsnpu
