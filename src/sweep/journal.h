// The state of a sweep directory (docs/sweeps.md): DIR/sweep.json says what the directory holds
// (the space, the shard, the arithmetic inputs), DIR/points.jsonl is the journal of finished
// points, one record per line, each appended by a single write() and fsync()ed, so that a sweep
// killed at any moment loses at most the line it was writing.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "sweep/records.h"

namespace bsnpu::sweep {

// What makes two sweep directories parts of the same sweep.
struct SweepState {
  std::string space_file;  // the sweep file's name, no folder
  std::string space_sha256;
  size_t points = 0;  // in the whole space
  size_t shard = 0, shards = 1;
  size_t images = 0;
  std::string data_sha256;
  std::map<std::string, std::string> models;  // model manifest name -> tensors sha256

  Json to_json() const;
  static SweepState parse(const std::string& text, const std::string& file);
  // The first difference in the inputs of the sweep (not the shard) from `other`, as
  // "FIELD: A here, B there", or empty when they describe the same sweep.
  std::string difference(const SweepState& other) const;
};

// "i/N" with 0 <= i < N <= 100000; throws naming --shard.
void parse_shard(const std::string& text, size_t& shard, size_t& shards);

// Reads DIR/points.jsonl: every complete line is a record (a bad one throws "FILE: line N: ...");
// an unterminated last line is what a kill during its write leaves: it is dropped from the result
// and, when `repair`, cut off the file.
std::vector<Record> read_journal(const std::string& path, bool repair);

// Appends records to DIR/points.jsonl: each line in one write() with O_APPEND, then fsync.
class Journal {
 public:
  explicit Journal(const std::string& path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  void append(const Record& record);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace bsnpu::sweep
