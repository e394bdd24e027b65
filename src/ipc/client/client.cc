#include "ipc/client/client.h"

#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "ipc/wire/auth.h"
#include "ipc/wire/json_value.h"
#include "ipc/base/error.h"

namespace ipc {
namespace {

constexpr std::size_t k_read_chunk = 65536;

bool retryable(int err) { return err == ENOENT || err == ECONNREFUSED || err == EAGAIN; }

std::string connect_error_text(int err) {
  switch (err) {
    case ENOENT: return "no such socket (is the daemon running?)";
    case ECONNREFUSED: return "connection refused (is the daemon running?)";
    case EAGAIN: return "server busy: its listen backlog is full";
    case EACCES: return "permission denied (check the socket's mode and group)";
    default: return errno_text(err);
  }
}

/// One connect attempt; returns the connected fd, or -1 with `err` set.
int try_connect(const SockAddr& sa, const Deadline& deadline, int& err) {
  Fd fd(::socket(sa.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    err = errno;
    return -1;
  }
  if (::connect(fd.get(), sa.get(), sa.length) != 0) {
    if (errno != EINPROGRESS) {
      err = errno;
      return -1;
    }
    // TCP: wait for the handshake within the deadline.
    pollfd p{fd.get(), POLLOUT, 0};
    int rc;
    while ((rc = ::poll(&p, 1, deadline.remaining_ms())) < 0 && errno == EINTR) {
    }
    if (rc == 0) {
      err = ETIMEDOUT;
      return -1;
    }
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return -1;
  }
  return fd.release();
}

}  // namespace

Address client_address(const std::string& text) {
  struct stat st {};
  if (text.rfind("unix:", 0) != 0 && ::stat(text.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
    return parse_address("unix:" + text);
  return parse_address(text);
}

ClientConnection ClientConnection::connect(const Address& address, const ConnectOptions& options,
                                           const Deadline& deadline) {
  std::vector<SockAddr> targets;
  if (address.is_local()) {
    targets.push_back(local_sockaddr(address));
  } else if (address.kind == Address::Kind::tcp) {
    targets = tcp_sockaddrs(address, false);
  } else {
    throw Error(ErrorKind::usage, address.display() + ": cannot connect to this kind of address");
  }
  auto wait = options.backoff;
  for (int attempt = 0;; ++attempt) {
    int err = 0;
    for (const SockAddr& sa : targets) {
      int fd = try_connect(sa, deadline, err);
      if (fd >= 0) return ClientConnection(Fd(fd), address.display());
    }
    if (err == ETIMEDOUT) throw Error(ErrorKind::timeout, address.display() + ": timed out connecting");
    auto left = deadline.is_never() ? std::chrono::milliseconds(1 << 30) : std::chrono::milliseconds(deadline.remaining_ms());
    // Out of attempts or of time while nobody is there: say who is not there (66/69),
    // which tells a health check more than "timed out".
    if (!retryable(err) || attempt >= options.retries || left.count() <= 1) {
      ErrorKind kind = err == EAGAIN ? ErrorKind::timeout : kind_from_errno(err);
      if (err == ENOENT && address.kind == Address::Kind::unix_path) kind = ErrorKind::not_found;
      std::string tries = attempt > 0 ? " (after " + std::to_string(attempt + 1) + " attempts)" : "";
      throw Error(kind, address.display() + ": " + connect_error_text(err) + tries);
    }
    auto nap = std::min(wait, left);
    if (options.on_retry) options.on_retry(connect_error_text(err), nap);
    std::this_thread::sleep_for(nap);
    wait *= 2;
  }
}

void ClientConnection::fail_io(int err, std::string_view doing) const {
  if (err == EPIPE || err == ECONNRESET)
    throw Error(ErrorKind::io, m_display + ": connection reset by the server while " + std::string(doing));
  throw Error(kind_from_errno(err) == ErrorKind::internal ? ErrorKind::io : kind_from_errno(err),
              m_display + ": " + std::string(doing) + ": " + errno_text(err));
}

void ClientConnection::write_all(std::string_view data, const Deadline& deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(m_fd.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) fail_io(errno, "sending");
    pollfd p{m_fd.get(), POLLOUT, 0};
    int rc = ::poll(&p, 1, deadline.remaining_ms());
    if (rc == 0) throw Error(ErrorKind::timeout, m_display + ": timed out sending the request");
  }
}

void ClientConnection::shutdown_write() { ::shutdown(m_fd.get(), SHUT_WR); }

bool ClientConnection::read_available() {
  if (m_eof) return false;
  char buf[k_read_chunk];
  for (;;) {
    ssize_t n = ::recv(m_fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      m_decoder.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      if (static_cast<std::size_t>(n) < sizeof buf) return true;
      continue;
    }
    if (n == 0) {
      m_eof = true;
      m_decoder.finish();
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return true;
    fail_io(errno, "reading the reply");
  }
}

std::optional<std::string> ClientConnection::take_line() {
  std::string_view line;
  if (next_line(line)) return std::string(line);
  return std::nullopt;
}

bool ClientConnection::next_line(std::string_view& line) {
  auto r = m_decoder.next();
  if (r.status == LineDecoder::Status::line) {
    line = r.line;
    return true;
  }
  if (r.status == LineDecoder::Status::too_long)
    throw Error(ErrorKind::protocol, m_display + ": reply line longer than " + std::to_string(m_decoder.max_line()) + " bytes");
  return false;
}

std::optional<std::string> ClientConnection::read_line(const Deadline& deadline) {
  for (;;) {
    if (auto line = take_line()) return line;
    if (m_eof) return std::nullopt;
    pollfd p{m_fd.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, deadline.remaining_ms());
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) throw Error(ErrorKind::timeout, m_display + ": timed out waiting for a reply");
    read_available();
  }
}

void ClientConnection::authenticate(const AuthKey& key, const Deadline& deadline) {
  auto line = read_line(deadline);
  if (!line) throw Error(ErrorKind::protocol, m_display + ": connection closed before the authkey challenge");
  auto challenge = parse_challenge(*line);
  if (!challenge)
    throw Error(ErrorKind::protocol, m_display + ": expected an authkey challenge, got: " + line->substr(0, 200) +
                                         " (does the server use --authkey-file?)");
  std::string nonce = new_nonce();
  write_all(client_response_line(key.respond(*challenge), nonce) + "\n", deadline);
  line = read_line(deadline);
  if (!line) throw Error(ErrorKind::permission, m_display + ": authentication failed (connection closed)");
  auto response = parse_server_response(*line);
  if (!response) {
    auto j = parse_json(*line);
    if (j && j->is_object() && j->contains("error"))
      throw Error(ErrorKind::permission, m_display + ": authentication failed (wrong key?)");
    throw Error(ErrorKind::protocol, m_display + ": unexpected reply to the authkey response");
  }
  if (!key.verify(nonce, *response))
    throw Error(ErrorKind::permission, m_display + ": the server failed to prove it knows the key");
}

std::size_t ClientConnection::unread_by_peer() const {
  int n = 0;
  if (::ioctl(m_fd.get(), SIOCOUTQ, &n) != 0 || n < 0) return 0;
  return static_cast<std::size_t>(n);
}

PeerInfo ClientConnection::server_peer() const { return peer_of(m_fd.get(), m_display); }

void pipeline(ClientConnection& conn, int input_fd, const PipelineHooks& hooks,
              std::optional<std::chrono::milliseconds> progress) {
  LineDecoder input(64 * 1024 * 1024);
  std::string out;
  std::size_t out_sent = 0;  // the first out_sent bytes of `out` are sent
  std::size_t line_number = 0;
  bool input_open = true, write_open = true;
  char buf[k_read_chunk];
  std::exception_ptr bad_input;
  auto last_progress = Clock::now();
  bool was_owed = false;
  auto drain_input = [&] {
    for (;;) {
      // Lines that pass unchanged go in one copy; the first other one, by prepare.
      if (hooks.prepare_run) input.skip(hooks.prepare_run(input.whole_lines(), input.max_line(), line_number, out));
      auto r = input.next();
      if (r.status == LineDecoder::Status::line) {
        std::size_t before = out.size();
        try {
          hooks.prepare(r.line, ++line_number, out);
        } catch (...) {
          // Nothing from this line on is sent; replies to what was sent are still read.
          out.resize(before);
          bad_input = std::current_exception();
          input_open = false;
          return;
        }
      } else if (r.status == LineDecoder::Status::too_long) {
        throw Error(ErrorKind::invalid_input, "stdin: line " + std::to_string(line_number + 1) + " is too long");
      } else {
        return;
      }
    }
  };
  auto take_lines = [&] {
    std::string_view line;
    for (;;) {
      if (hooks.on_run) conn.skip(hooks.on_run(conn.whole_lines()));
      if (!conn.next_line(line)) break;
      hooks.on_line(line);
    }
  };
  for (;;) {
    take_lines();
    hooks.flush();
    if (!input_open && out.empty()) {
      if (write_open) {
        conn.shutdown_write();
        write_open = false;
      }
      // Every request is out: done once each has its reply, even if the server stays open.
      if (hooks.outstanding() == 0) break;
    }
    bool owed = hooks.outstanding() > 0 || !out.empty();
    // The clock runs from when something became owed, not from the last reply before.
    if (owed && !was_owed) last_progress = Clock::now();
    was_owed = owed;
    int wait_ms = -1;
    if (owed && progress) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(last_progress + *progress - Clock::now());
      wait_ms = static_cast<int>(std::clamp<long long>(left.count() + 1, 0, 1 << 30));
    }
    pollfd p[2] = {{conn.fd(), static_cast<short>(POLLIN | (out.empty() ? 0 : POLLOUT)), 0},
                   {input_open && out.size() - out_sent < k_read_chunk * 4 ? input_fd : -1, POLLIN, 0}};
    int rc = ::poll(p, 2, wait_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) throw_errno("poll", errno);
    if (rc == 0) {
      if (owed && progress && Clock::now() - last_progress >= *progress)
        throw Error(ErrorKind::timeout, conn.display() + ": timed out waiting for a reply (" +
                                            std::to_string(hooks.outstanding()) + " owed)");
      continue;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      last_progress = Clock::now();
      if (!conn.read_available()) {
        take_lines();
        hooks.flush();
        if (bad_input) std::rethrow_exception(bad_input);
        if (input_open || !out.empty())
          throw Error(ErrorKind::protocol, conn.display() + ": the server closed the connection before all requests were sent");
        return;
      }
    }
    if (!out.empty() && (p[0].revents & POLLOUT)) {
      ssize_t n = ::send(conn.fd(), out.data() + out_sent, out.size() - out_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        // Erasing the sent bytes from the front each time would move a megabyte
        // line again and again: keep an offset, and drop what was sent at once.
        out_sent += static_cast<std::size_t>(n);
        if (out_sent == out.size()) {
          out.clear();
          out_sent = 0;
        } else if (out_sent >= k_read_chunk * 16 && out_sent * 2 >= out.size()) {
          // Never drained while input keeps coming: drop the sent half (moving less).
          out.erase(0, out_sent);
          out_sent = 0;
        }
        last_progress = Clock::now();
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        throw Error(ErrorKind::io, conn.display() + ": connection reset by the server while sending");
      }
    }
    if (p[1].fd >= 0 && input_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(input_fd, buf, sizeof buf);
      if (n > 0) {
        input.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      } else if (n == 0) {
        input.finish();
        input_open = false;
      } else if (errno != EINTR && errno != EAGAIN) {
        throw_errno("stdin", errno);
      }
      drain_input();
    }
  }
  if (bad_input) std::rethrow_exception(bad_input);
}

}  // namespace ipc
