#include "arch/dram_channel.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "core/error.h"

namespace bsnpu::arch {

DramChannel::Grant DramChannel::place(uint64_t ready, uint64_t cycles) {
  Grant grant;
  grant.busy = cycles;
  if (cycles == 0) {
    grant.start = grant.end = ready;
    grant.done = ready + static_cast<uint64_t>(config_.latency_cycles);
    return grant;
  }
  uint64_t at = ready;
  // The reservation that contains `at`, if any, pushes it to its end.
  auto next = busy_.upper_bound(at);
  if (next != busy_.begin()) {
    const auto before = std::prev(next);
    if (before->second > at) at = before->second;
  }
  bool started = false;
  uint64_t left = cycles;
  while (left > 0) {
    const uint64_t gap_end = next == busy_.end() ? UINT64_MAX : next->first;
    const uint64_t take = std::min(left, gap_end - at);
    if (take > 0) {
      if (!started) grant.start = at;
      started = true;
      left -= take;
      grant.end = at + take;
      // Reserve [at, at + take), merging with the neighbours it touches.
      uint64_t begin = at, end = at + take;
      auto previous = busy_.lower_bound(begin);
      if (previous != busy_.begin()) {
        const auto candidate = std::prev(previous);
        if (candidate->second == begin) {
          begin = candidate->first;
          busy_.erase(candidate);
        }
      }
      if (next != busy_.end() && next->first == end) {
        end = next->second;
        next = busy_.erase(next);
      }
      busy_[begin] = end;
      at = end;
      continue;
    }
    at = next->second;
    ++next;
  }
  grant.done = grant.end + static_cast<uint64_t>(config_.latency_cycles);
  return grant;
}

DramChannel::Grant DramChannel::demand(uint64_t ready, uint64_t bits, bool write) {
  return place(ready, config_.transfer_cycles(bits, write));
}

size_t DramChannel::enqueue_prefetch(uint64_t ready, uint64_t bits) {
  queued_.push_back({ready, bits});
  return queued_.size() - 1;
}

const DramChannel::Grant& DramChannel::prefetch(size_t ticket) {
  if (ticket >= queued_.size()) {
    throw Error("dram: prefetch " + std::to_string(ticket) + " was never issued");
  }
  const size_t depth = static_cast<size_t>(config_.prefetch_queue);
  while (placed_.size() <= ticket) {
    const size_t index = placed_.size();
    uint64_t ready = queued_[index].ready;
    if (index >= depth) ready = std::max(ready, placed_[index - depth].end);
    placed_.push_back(place(ready, config_.transfer_cycles(queued_[index].bits, false)));
  }
  return placed_[ticket];
}

void DramChannel::reset() {
  busy_.clear();
  queued_.clear();
  placed_.clear();
}

}  // namespace bsnpu::arch
