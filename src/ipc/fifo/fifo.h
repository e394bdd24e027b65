#pragma once
/// Named pipes as rendezvous points for JSON lines (man/ipcat.1, ipcat fifo-send and ipcat fifo-recv): creating and
/// checking the FIFO, opening it for each side, removing it only if we made it.
///
///   fifo-send ── open_fifo_writer ──► FifoWriter (fifo_writer.h) ─┐
///                                                                  ├─► PATH (mkfifo 0600)
///   fifo-recv ── open_fifo_reader ──► FifoReader (fifo_reader.h) ─┘
///
/// The kernel keeps a FIFO's bytes only while some process has it open: when the
/// last descriptor closes, whatever is still buffered is gone. Nothing here can
/// change that; a script that wants messages to wait keeps the FIFO open
/// (e.g. `exec 3<>PATH`) or keeps a reader running.

#include <sys/types.h>

#include <climits>
#include <cstddef>
#include <string>
#include <utility>

#include "ipc/base/fd.h"
#include "ipc/base/files.h"
#include "ipc/base/stop_signals.h"
#include "ipc/base/write_all.h"

namespace ipc {

/// Writes of at most this many bytes to a pipe are atomic: they never interleave
/// with other writers' bytes (POSIX; 4096 on Linux).
inline constexpr std::size_t k_pipe_buf = PIPE_BUF;

inline constexpr mode_t k_default_fifo_mode = 0600;

struct EnsuredFifo {
  bool created = false;  ///< this call made it (with exactly the mode asked for)
  FileId id;
};

/// Makes sure `path` is a FIFO. When nothing is there, creates missing parent
/// directories (mode 0777 less the umask, as mkdir -p) and the FIFO with exactly
/// `mode`, whatever the umask. An existing FIFO is used as it is only if it is not a
/// symlink, is owned by us (or root), and lets group and others write no more than
/// `mode` does. Throws Error, leaving what is there untouched: permission for a
/// symlink (never followed), another user's FIFO, or a looser mode ("PATH: owned by
/// uid N (name)...", "PATH: mode 0666 lets group and others write to it...") and on
/// EACCES/EPERM; cannot_create when the path exists and is not a FIFO or cannot be made.
EnsuredFifo ensure_fifo(const std::string& path, mode_t mode = k_default_fifo_mode);

/// Removes a FIFO at destruction if it is still the file identified (same device
/// and inode), so a FIFO someone else put in its place is never removed. Empty
/// (default-constructed or released) it does nothing.
class FifoRemover {
 public:
  FifoRemover() = default;
  FifoRemover(std::string path, FileId id) : m_path(std::move(path)), m_id(id), m_armed(true) {}
  FifoRemover(const FifoRemover&) = delete;
  FifoRemover& operator=(const FifoRemover&) = delete;
  FifoRemover(FifoRemover&& other) noexcept { *this = std::move(other); }
  /// Carries out the duty held so far, then takes over `other`'s.
  FifoRemover& operator=(FifoRemover&& other) noexcept {
    if (this == &other) return *this;
    remove_now();
    m_path = std::move(other.m_path);
    m_id = other.m_id;
    m_armed = std::exchange(other.m_armed, false);
    return *this;
  }
  ~FifoRemover() { remove_now(); }

  /// Removes it now (if still ours); later calls do nothing.
  void remove_now() noexcept;

 private:
  std::string m_path;
  FileId m_id;
  bool m_armed = false;
};

/// Opens an existing FIFO for writing, non-blocking and close-on-exec. With no
/// reader there: throws Error refused ("PATH: no reader on FIFO") at once when `wait`
/// is nullopt, else retries (every 10 ms growing to 100 ms) until one appears, and
/// throws timeout when the deadline passes (io "interrupted" on a stop signal).
/// Never through a symlink (O_NOFOLLOW), and the FIFO opened is checked as
/// ensure_fifo() checks it, against `mode`. Also throws not_found / permission /
/// cannot_create (not a FIFO).
Fd open_fifo_writer(const std::string& path, const std::optional<Deadline>& wait, const StopSignals* stop,
                    mode_t mode = k_default_fifo_mode);

/// Opens an existing FIFO for reading, non-blocking and close-on-exec. It is opened
/// read-write: the reader then counts as a writer too, so it never sees EOF when
/// writers come and go (no spinning on POLLHUP) and the open never blocks. Checked as
/// open_fifo_writer() checks it. Throws Error: not_found / permission / cannot_create
/// (not a FIFO).
Fd open_fifo_reader(const std::string& path, mode_t mode = k_default_fifo_mode);

}  // namespace ipc
