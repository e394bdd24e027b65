#include "ipc/tap/session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "ipc/base/error.h"

namespace asio = boost::asio;

namespace ipc {
namespace {

/// How long a full upstream backlog (EAGAIN) is retried before the client is dropped.
constexpr std::chrono::seconds k_connect_patience{10};
constexpr std::chrono::milliseconds k_max_backoff{100};
constexpr std::size_t k_first_buffer = 4096;
constexpr std::size_t k_max_buffer = 64 * 1024;

bool would_block(const boost::system::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

}  // namespace

TapSession::TapSession(Socket client, std::uint64_t id, TapObserver& observer,
                       std::function<void(TapSession*)> on_closed)
    : m_client(std::move(client)),
      m_upstream(m_client.get_executor()),
      m_id(id),
      m_observer(observer),
      m_on_closed(std::move(on_closed)),
      m_timer(m_client.get_executor()) {
  m_dir[0].from = &m_client;
  m_dir[0].to = &m_upstream;
  m_dir[0].side = TapSide::client;
  m_dir[1].from = &m_upstream;
  m_dir[1].to = &m_client;
  m_dir[1].side = TapSide::server;
}

void TapSession::start(const Endpoint& upstream) {
  boost::system::error_code ec;
  m_client.non_blocking(true, ec);
  m_connect_deadline = std::chrono::steady_clock::now() + k_connect_patience;
  connect(upstream, std::chrono::milliseconds(2));
}

void TapSession::connect(const Endpoint& upstream, std::chrono::milliseconds backoff) {
  if (m_closed) return;
  if (!m_upstream.is_open()) {
    int fd = ::socket(upstream.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      close("upstream: socket: " + errno_text(errno));
      return;
    }
    boost::system::error_code ec;
    m_upstream.assign(upstream.protocol(), fd, ec);
    if (ec) {
      close("upstream: " + ec.message());
      return;
    }
    m_upstream.non_blocking(true, ec);
  }
  auto connected = [this, family = upstream.protocol().family()] {
    if (family != AF_UNIX) {
      int one = 1;  // small messages both ways: Nagle would hold them back
      ::setsockopt(m_upstream.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    start_read(m_dir[0]);
    start_read(m_dir[1]);
  };
  // By hand, not async_connect: a Unix socket with a full backlog answers EAGAIN,
  // which is no connection in progress (Asio would then report success).
  if (::connect(m_upstream.native_handle(), upstream.data(), static_cast<socklen_t>(upstream.size())) == 0) {
    connected();
    return;
  }
  int err = errno;
  if (err == EINPROGRESS) {
    m_upstream.async_wait(Socket::wait_write, [self = shared_from_this(), connected](const boost::system::error_code& ec) {
      if (self->m_closed) return;
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (!ec) ::getsockopt(self->m_upstream.native_handle(), SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (ec || so_error != 0) {
        self->close("upstream: " + (ec ? ec.message() : errno_text(so_error)));
        return;
      }
      connected();
    });
    return;
  }
  if (err == EAGAIN && std::chrono::steady_clock::now() < m_connect_deadline) {
    m_timer.expires_after(backoff);
    m_timer.async_wait([self = shared_from_this(), upstream, backoff](const boost::system::error_code& ec) {
      if (!ec) self->connect(upstream, std::min(backoff * 2, k_max_backoff));
    });
    return;
  }
  close("upstream: " + errno_text(err));
}

void TapSession::start_read(Direction& d) {
  if (d.reading || d.writing || d.eof || m_closed) return;
  if (d.buffer.empty()) d.buffer.resize(k_first_buffer);
  d.reading = true;
  d.from->async_read_some(asio::buffer(d.buffer),
                          [self = shared_from_this(), &d](const boost::system::error_code& ec, std::size_t n) {
                            d.reading = false;
                            if (self->m_closed) return;
                            if (ec == asio::error::eof) {
                              d.eof = true;
                              self->m_observer.ended(self->m_id, d.side);
                              self->end_of(d);
                              return;
                            }
                            if (ec) {
                              self->close(ec.message());
                              return;
                            }
                            self->on_read(d, n);
                          });
}

void TapSession::on_read(Direction& d, std::size_t n) {
  std::string_view data(d.buffer.data(), n);
  // Forward first, then tell the observer: watching must not add latency.
  boost::system::error_code ec;
  std::size_t written = d.to->write_some(asio::buffer(data.data(), data.size()), ec);
  if (ec && !would_block(ec)) {
    close(ec.message());
    return;
  }
  if (ec) written = 0;
  if (written < n) {
    // Backpressure: this side is not read again until the rest is out.
    d.pending.assign(data.substr(written));
    wait_writable(d);
  }
  m_observer.forwarded(m_id, d.side, data);
  if (m_closed) return;
  if (n == d.buffer.size() && d.buffer.size() < k_max_buffer) d.buffer.resize(d.buffer.size() * 2);
  start_read(d);
}

void TapSession::wait_writable(Direction& d) {
  if (d.writing || m_closed) return;
  d.writing = true;
  d.to->async_wait(Socket::wait_write, [self = shared_from_this(), &d](const boost::system::error_code& ec) {
    d.writing = false;
    if (self->m_closed) return;
    if (ec) {
      self->close(ec.message());
      return;
    }
    self->on_writable(d);
  });
}

void TapSession::on_writable(Direction& d) {
  boost::system::error_code ec;
  std::size_t written = d.to->write_some(asio::buffer(d.pending), ec);
  if (ec && !would_block(ec)) {
    close(ec.message());
    return;
  }
  if (!ec) d.pending.erase(0, written);
  if (!d.pending.empty()) {
    wait_writable(d);
    return;
  }
  // A connection that once needed a large buffer need not keep it.
  if (d.pending.capacity() > k_max_buffer) std::string().swap(d.pending);
  if (d.eof) {
    end_of(d);
  } else {
    start_read(d);
  }
}

void TapSession::end_of(Direction& d) {
  if (!d.pending.empty() || d.writing) return;  // on_writable comes back here
  boost::system::error_code ec;
  d.to->shutdown(Socket::shutdown_send, ec);
  if (m_dir[0].eof && m_dir[1].eof && m_dir[0].pending.empty() && m_dir[1].pending.empty()) close("");
}

void TapSession::close(std::string_view error) {
  if (m_closed) return;
  m_closed = true;
  boost::system::error_code ec;
  m_client.close(ec);
  m_upstream.close(ec);
  m_timer.cancel();
  m_observer.closed(m_id, error);
  if (m_on_closed) {
    auto done = std::move(m_on_closed);
    done(this);
  }
}

}  // namespace ipc
