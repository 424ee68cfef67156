#include "core/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "core/error.h"

namespace bsnpu {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

}  // namespace

int64_t TensorView::elements() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

size_t dtype_size(const std::string& dtype) {
  if (dtype == "U8" || dtype == "I8" || dtype == "BOOL") return 1;
  if (dtype == "I16" || dtype == "U16" || dtype == "F16") return 2;
  if (dtype == "I32" || dtype == "U32" || dtype == "F32") return 4;
  if (dtype == "I64" || dtype == "U64" || dtype == "F64") return 8;
  return 0;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  const std::streamoff size = in.tellg();
  if (size < 0) throw Error(path + ": cannot read (is it a directory?)");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (!bytes.empty() && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw Error(path + ": cannot read (is it a directory?)");
  }
  return bytes;
}

SafetensorsFile SafetensorsFile::load(const std::string& path) {
  SafetensorsFile file;
  file.path_ = path;
  file.blob_ = read_file(path);
  const std::vector<uint8_t>& blob = file.blob_;
  if (blob.size() < 8) {
    throw Error(path + ": truncated safetensors file (" + std::to_string(blob.size()) +
                " bytes, no header length)");
  }
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | blob[static_cast<size_t>(i)];
  if (header_length > kMaxHeaderBytes || 8 + header_length > blob.size()) {
    throw Error(path + ": header length " + std::to_string(header_length) +
                " exceeds the file size " + std::to_string(blob.size()));
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(blob.begin() + 8,
                                   blob.begin() + 8 + static_cast<long>(header_length));
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": corrupt safetensors header (" + e.what() + ")");
  }
  if (!header.is_object()) throw Error(path + ": safetensors header is not a JSON object");
  const uint8_t* data = blob.data() + 8 + header_length;
  const uint64_t data_bytes = blob.size() - 8 - header_length;
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> spans;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    TensorView view;
    uint64_t begin = 0, end = 0;
    try {
      view.dtype = info.at("dtype").get<std::string>();
      for (const auto& dim : info.at("shape")) view.shape.push_back(dim.get<int64_t>());
      const auto& offsets = info.at("data_offsets");
      if (offsets.size() != 2) throw Error("");
      begin = offsets[0].get<uint64_t>();
      end = offsets[1].get<uint64_t>();
    } catch (const std::exception&) {
      throw Error(path + ": tensor '" + name + "': malformed header entry");
    }
    const size_t width = dtype_size(view.dtype);
    if (width == 0) throw Error(path + ": tensor '" + name + "': unsupported dtype " + view.dtype);
    bool shape_ok = true;
    for (int64_t dim : view.shape) shape_ok = shape_ok && dim >= 0 && dim < (int64_t{1} << 40);
    if (!shape_ok || end < begin || end - begin != static_cast<uint64_t>(view.elements()) * width) {
      throw Error(path + ": tensor '" + name + "': data_offsets [" + std::to_string(begin) + ", " +
                  std::to_string(end) + ") do not match its shape and dtype " + view.dtype);
    }
    if (end > data_bytes) {
      throw Error(path + ": truncated: tensor '" + name + "' ends at byte " + std::to_string(end) +
                  " of a " + std::to_string(data_bytes) + "-byte data section");
    }
    view.data = data + begin;
    view.bytes = static_cast<size_t>(end - begin);
    spans.emplace_back(begin, end, name);
    file.tensors_.emplace(name, std::move(view));
  }
  std::sort(spans.begin(), spans.end());
  uint64_t covered = 0;
  for (const auto& [begin, end, name] : spans) {
    if (begin != covered) {
      throw Error(path + ": tensor '" + name +
                  "' overlaps or leaves a gap in the data section at byte " +
                  std::to_string(begin));
    }
    covered = end;
  }
  if (covered != data_bytes) {
    throw Error(path + ": " + std::to_string(data_bytes - covered) +
                " trailing bytes after the last tensor (oversized or corrupt file)");
  }
  return file;
}

const TensorView& SafetensorsFile::get(const std::string& name, const std::string& dtype,
                                       int64_t expected_elements) const {
  auto found = tensors_.find(name);
  if (found == tensors_.end()) throw Error(path_ + ": tensor '" + name + "' is missing");
  const TensorView& view = found->second;
  if (view.dtype != dtype) {
    throw Error(path_ + ": tensor '" + name + "': dtype " + view.dtype + ", expected " + dtype);
  }
  if (expected_elements >= 0 && view.elements() != expected_elements) {
    throw Error(path_ + ": tensor '" + name + "': " + std::to_string(view.elements()) +
                " elements, expected " + std::to_string(expected_elements));
  }
  return view;
}

}  // namespace bsnpu
