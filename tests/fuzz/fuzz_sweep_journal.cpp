// libFuzzer target: what a sweep reads back from its directory (a points.jsonl record per line,
// sweep.json) on arbitrary bytes. A record that parses must print back to the same record.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "sweep/journal.h"
#include "sweep/records.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bsnpu;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const sweep::Record record = sweep::parse_record(text, "fuzz.jsonl: line 1");
    const std::string line = sweep::record_line(record);
    if (sweep::record_line(sweep::parse_record(line, "again")) != line) {
      fuzz::finding("a record that does not read back as itself");
    }
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz.jsonl: line 1: ");
  }
  try {
    sweep::SweepState::parse(text, "sweep.json");
  } catch (const Error& error) {
    fuzz::check_error(error, "sweep.json: ");
  }
  return 0;
}
