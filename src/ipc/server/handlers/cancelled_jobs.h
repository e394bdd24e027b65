#pragma once
/// What the exec and pool handlers do alike with the queued requests of a client
/// that went away (--cancel-on-disconnect; man/ipcat.1, ipcat serve): take them out
/// of the queue in order, then answer each with no reply and Outcome::cancelled.
/// Two steps, so that a handler cancels its running work in between and the
/// callbacks (which may queue more) run after the queue is no longer walked.

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "ipc/server/handler.h"

namespace ipc {

/// The jobs of `connection` (a `Job` has `connection` and `done`), removed from `queue`.
template <typename Job>
std::vector<Job> take_jobs_of(std::deque<Job>& queue, std::uint64_t connection) {
  std::vector<Job> taken;
  for (auto it = queue.begin(); it != queue.end();) {
    if (it->connection == connection) {
      taken.push_back(std::move(*it));
      it = queue.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

/// Calls each job's callback: no reply, cancelled.
template <typename Job>
void answer_cancelled(std::vector<Job>& jobs) {
  for (auto& job : jobs) {
    Outcome outcome;
    outcome.cancelled = true;
    job.done(std::nullopt, std::move(outcome));
  }
}

}  // namespace ipc
