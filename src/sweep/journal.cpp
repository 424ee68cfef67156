#include "sweep/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/files.h"
#include "core/json_fields.h"

namespace bsnpu::sweep {
namespace {

constexpr uint64_t kMaxJournalBytes = uint64_t{1} << 32;
constexpr int64_t kMaxShards = 100000;

[[noreturn]] void system_error(const std::string& path, const std::string& what) {
  throw Error(path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

Json SweepState::to_json() const {
  Json out;
  out["format"] = "bsnpu-sweep-state";
  out["version"] = 1;
  out["space_file"] = space_file;
  out["space_sha256"] = space_sha256;
  out["points"] = points;
  out["shard"] = std::to_string(shard) + "/" + std::to_string(shards);
  out["images"] = images;
  out["data_sha256"] = data_sha256;
  Json model_map = Json::object();
  for (const auto& [name, sha] : models) model_map[name] = sha;
  out["models"] = std::move(model_map);
  return out;
}

SweepState SweepState::parse(const std::string& text, const std::string& file) {
  const nlohmann::json document = parse_json(text, file);
  FieldReader top(document, file, "");
  top.header("bsnpu-sweep-state", 1);
  SweepState state;
  state.space_file = top.get<std::string>("space_file");
  state.space_sha256 = top.get<std::string>("space_sha256");
  state.points = static_cast<size_t>(top.integer_in("points", 1, static_cast<int64_t>(kMaxPoints)));
  try {
    parse_shard(top.get<std::string>("shard"), state.shard, state.shards);
  } catch (const Error&) {
    top.fail("shard", "must be i/N");
  }
  state.images = static_cast<size_t>(top.integer_in("images", 1, INT64_MAX));
  state.data_sha256 = top.get<std::string>("data_sha256");
  state.models = top.get<std::map<std::string, std::string>>("models");
  top.finish();
  return state;
}

std::string SweepState::difference(const SweepState& other) const {
  auto differs = [](const std::string& field, const std::string& here, const std::string& there) {
    return field + ": " + here + " here, " + there + " there";
  };
  if (space_sha256 != other.space_sha256) {
    return differs("space", space_file + " (sha256 " + space_sha256.substr(0, 12) + ")",
                   other.space_file + " (sha256 " + other.space_sha256.substr(0, 12) + ")");
  }
  if (images != other.images) {
    return differs("images", std::to_string(images), std::to_string(other.images));
  }
  if (data_sha256 != other.data_sha256) {
    return differs("data sha256", data_sha256.substr(0, 12), other.data_sha256.substr(0, 12));
  }
  if (models != other.models) return differs("models", to_json()["models"].dump(),
                                             other.to_json()["models"].dump());
  return "";
}

void parse_shard(const std::string& text, size_t& shard, size_t& shards) {
  const size_t slash = text.find('/');
  auto number = [&](const std::string& digits) -> int64_t {
    if (digits.empty() || digits.size() > 6 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      return -1;
    }
    return std::stoll(digits);
  };
  const int64_t i = slash == std::string::npos ? -1 : number(text.substr(0, slash));
  const int64_t n = slash == std::string::npos ? -1 : number(text.substr(slash + 1));
  if (i < 0 || n < 1 || n > kMaxShards || i >= n) {
    throw Error("--shard: '" + printable(text) + "' is not i/N with 0 <= i < N <= " +
                std::to_string(kMaxShards));
  }
  shard = static_cast<size_t>(i);
  shards = static_cast<size_t>(n);
}

std::vector<Record> read_journal(const std::string& path, bool repair) {
  if (::access(path.c_str(), F_OK) != 0) return {};
  const std::string text = read_text_file(path, kMaxJournalBytes, "a sweep journal");
  std::vector<Record> records;
  size_t begin = 0, line = 1;
  while (begin < text.size()) {
    const size_t end = text.find('\n', begin);
    const std::string where = path + ": line " + std::to_string(line);
    if (end == std::string::npos) break;  // the unterminated last line of a killed write
    // A complete line is never torn: a bad one is damage, not an interruption.
    records.push_back(parse_record(text.substr(begin, end - begin), where));
    begin = end + 1;
    ++line;
  }
  if (begin < text.size() && repair) {
    if (::truncate(path.c_str(), static_cast<off_t>(begin)) != 0) {
      system_error(path, "cannot drop the torn last line");
    }
  }
  return records;
}

Journal::Journal(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0) system_error(path, "cannot open for appending");
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(const Record& record) {
  const std::string line = record_line(record) + "\n";
  const ssize_t written = ::write(fd_, line.data(), line.size());
  if (written != static_cast<ssize_t>(line.size())) {
    if (written >= 0) errno = ENOSPC;
    system_error(path_, "cannot append point " + std::to_string(record.index));
  }
  if (::fsync(fd_) != 0) system_error(path_, "fsync failed");
}

}  // namespace bsnpu::sweep
