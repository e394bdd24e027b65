#pragma once
/// UidCounter — how many of something (connections, requests in flight) each peer
/// uid holds, for the per-uid limits (--max-connections-per-uid, --max-per-uid).
/// The caller compares with its limit; a uid that holds nothing has no entry.

#include <sys/types.h>

#include <cstddef>
#include <unordered_map>

namespace ipc {

class UidCounter {
 public:
  std::size_t held(uid_t uid) const {
    auto it = m_held.find(uid);
    return it == m_held.end() ? 0 : it->second;
  }
  void add(uid_t uid) { ++m_held[uid]; }
  /// Gives one back; nothing happens for a uid that holds nothing.
  void remove(uid_t uid) {
    auto it = m_held.find(uid);
    if (it != m_held.end() && --it->second == 0) m_held.erase(it);
  }
  /// Uids holding anything now.
  std::size_t uids() const noexcept { return m_held.size(); }

 private:
  std::unordered_map<uid_t, std::size_t> m_held;
};

}  // namespace ipc
