#include "arch/dram_channel.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "core/error.h"

namespace bsnpu::arch {

DramChannel::Grant DramChannel::place(uint64_t ready, uint64_t ticks, uint64_t* end_tick) {
  constexpr uint64_t kTicks = DramConfig::kDramTicksPerCycle;
  const uint64_t latency = static_cast<uint64_t>(config_.latency_cycles);
  Grant grant;
  uint64_t at = ready * kTicks;
  if (ticks == 0) {
    grant.start = grant.end = ready;
    grant.done = ready + latency;
    *end_tick = at;
    return grant;
  }
  // The reservation that contains `at`, if any, pushes it to its end.
  auto next = busy_.upper_bound(at);
  if (next != busy_.begin()) {
    const auto before = std::prev(next);
    if (before->second > at) at = before->second;
  }
  bool started = false;
  uint64_t first = 0, last = 0, left = ticks;
  while (left > 0) {
    const uint64_t gap_end = next == busy_.end() ? UINT64_MAX : next->first;
    const uint64_t take = std::min(left, gap_end - at);
    if (take > 0) {
      if (!started) first = at;
      started = true;
      left -= take;
      last = at + take;
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
  grant.start = first / kTicks;
  grant.end = (last + kTicks - 1) / kTicks;
  grant.done = grant.end + latency;
  *end_tick = last;
  return grant;
}

DramChannel::Grant DramChannel::demand(uint64_t ready, uint64_t bits, bool write) {
  uint64_t end_tick = 0;
  return place(ready, config_.transfer_ticks(bits, write), &end_tick);
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
    // Ready no earlier than the cycle in which the prefetch `depth` places before it ended.
    if (index >= depth) {
      ready = std::max(ready, placed_end_[index - depth] / DramConfig::kDramTicksPerCycle);
    }
    uint64_t end_tick = 0;
    placed_.push_back(place(ready, config_.transfer_ticks(queued_[index].bits, false), &end_tick));
    placed_end_.push_back(end_tick);
  }
  return placed_[ticket];
}

Timeline DramChannel::prefetch_queue() const {
  Timeline queue;
  for (size_t ticket = 0; ticket < placed_.size(); ++ticket)
    queue.push_back({queued_[ticket].ready, placed_[ticket].end});
  return queue;
}

void DramChannel::reset() {
  busy_.clear();
  queued_.clear();
  placed_.clear();
  placed_end_.clear();
}

}  // namespace bsnpu::arch
