#include "ipc/server/connection.h"

#include <poll.h>

#include <boost/asio/write.hpp>
#include <chrono>

#include "ipc/wire/auth.h"
#include "ipc/wire/json_text.h"
#include "ipc/wire/json_value.h"

namespace asio = boost::asio;

namespace ipc {
namespace {

/// The first line of an HTTP/1 request, or a Host: header (any case), or the
/// HTTP/2 preface: no JSON text begins like that.
bool looks_like_http(std::string_view line) {
  static constexpr std::string_view k_starts[] = {"GET /", "POST /", "PUT ",      "HEAD ",    "OPTIONS ",
                                                  "DELETE ", "PATCH ", "CONNECT ", "TRACE ", "PRI * HTTP/2"};
  for (auto start : k_starts)
    if (line.starts_with(start)) return true;
  if (line.size() < 5) return false;
  std::string_view h = line.substr(0, 5);
  return (h[0] == 'H' || h[0] == 'h') && (h[1] == 'O' || h[1] == 'o') && (h[2] == 'S' || h[2] == 's') &&
         (h[3] == 'T' || h[3] == 't') && h[4] == ':';
}

}  // namespace

Connection::Connection(const ConnectionContext& context, Socket socket, std::uint64_t id, PeerInfo peer)
    : m_ctx(context),
      m_socket(std::move(socket)),
      m_id(id),
      m_peer(std::move(peer)),
      m_decoder(context.options.max_line) {}

void Connection::start() {
  boost::system::error_code ec;
  m_socket.non_blocking(true, ec);
  if (m_ctx.options.authkey) start_handshake();
  arm_idle_timer();
  wait_readable();
}

void Connection::start_handshake() {
  m_nonce = new_nonce();
  m_unsent += challenge_line(m_nonce);
  m_unsent += '\n';
  do_write();
  // A client that never answers must not hold a connection slot for long.
  auto limit = m_ctx.options.handshake_timeout;
  if (limit.count() == 0) return;
  m_handshake_timer = std::make_unique<asio::steady_timer>(m_socket.get_executor());
  m_handshake_timer->expires_after(limit);
  m_handshake_timer->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->m_closed || self->m_nonce.empty()) return;
    self->m_ctx.log.info("handshake_timeout", {{"connection", self->m_id}, {"peer", self->m_peer.describe()}});
    self->close();
  });
}

void Connection::on_handshake_line(std::string_view line) {
  auto response = parse_client_response(line);
  const AuthKey& key = *m_ctx.options.authkey;
  if (!response || !key.verify(m_nonce, response->response)) {
    m_nonce.clear();
    m_ctx.log.info("authentication_failed", {{"connection", m_id}, {"peer", m_peer.describe()}});
    m_read_done = true;
    add_final(encode(error_object("Forbidden", "authentication failed")));
    return;
  }
  m_nonce.clear();
  if (m_handshake_timer) m_handshake_timer->cancel();
  m_unsent += server_response_line(key.respond(response->challenge));
  m_unsent += '\n';
  do_write();
}

void Connection::refuse(const std::string& reply_line) {
  m_read_done = true;
  add_final(reply_line);
}

void Connection::shutdown() {
  m_shutting_down = true;
  maybe_resume_or_close();
}

void Connection::close() {
  if (m_closed) return;
  m_closed = true;
  // Reset by the client, or its socket failed: nobody is left to read a reply.
  if (pending() && !m_shutting_down) client_gone();
  boost::system::error_code ec;
  m_socket.close(ec);
  if (m_idle_timer) m_idle_timer->cancel();
  if (m_handshake_timer) m_handshake_timer->cancel();
  m_unsent.clear();
  m_ctx.closed(*this);
}

void Connection::wait_readable() {
  if (m_reading || m_read_done || m_closed) return;
  m_reading = true;
  m_socket.async_wait(Socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
    self->m_reading = false;
    if (self->m_closed) return;
    if (ec) {
      self->close();
      return;
    }
    self->on_readable();
  });
}

void Connection::on_readable() {
  auto& buf = m_ctx.read_buffer;
  boost::system::error_code ec;
  std::size_t n = m_socket.read_some(asio::buffer(buf), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    wait_readable();
    return;
  }
  if (ec == asio::error::eof) {
    m_read_done = true;
    m_decoder.finish();
    maybe_resume_or_close();
    if (!m_closed) watch_hangup();
    return;
  }
  if (ec) {
    // Reset by the peer: nobody is left to answer; running handlers finish alone.
    close();
    return;
  }
  m_decoder.feed(std::string_view(buf.data(), n));
  arm_idle_timer();
  maybe_resume_or_close();
}

void Connection::process_lines() {
  // Handlers may reply synchronously (echo, parse errors): on_reply must not
  // re-enter this loop, or 10,000 buffered lines would nest 10,000 calls deep.
  if (m_processing) return;
  m_processing = true;
  const ServerOptions& o = m_ctx.options;
  while (!m_close_after_flush && !m_closed) {
    // Backpressure: leave the rest in the decoder until replies drain.
    if (!has_room()) break;
    auto r = m_decoder.next();
    if (r.status == LineDecoder::Status::line) {
      if (!m_nonce.empty()) {
        on_handshake_line(r.line);
        continue;
      }
      if (looks_like_http(r.line)) {
        // Closed at once, no reply, no handler: a web page's POST to a loopback
        // port must not get its body run as a request.
        m_ctx.log.info("http_request_refused", {{"connection", m_id}, {"peer", m_peer.describe()}});
        close();
        break;
      }
      if (m_shutting_down) {
        add_final(encode(error_object("ShuttingDown", "server is shutting down")));
        break;
      }
      submit(r.line);
    } else if (r.status == LineDecoder::Status::too_long) {
      Json j = error_object("LineTooLong", "request line exceeds --max-line (" + std::to_string(o.max_line) + " bytes)");
      j["limit"] = o.max_line;
      m_ctx.log.error("line_too_long", {{"connection", m_id}, {"limit", o.max_line}});
      m_read_done = true;  // framing is lost
      add_final(encode(j));
      break;
    } else {
      break;
    }
  }
  m_processing = false;
}

void Connection::submit(std::string_view line) {
  std::uint64_t seq = m_base_seq + m_slots.size();
  m_slots.emplace_back();
  ++m_requests;
  const auto started = std::chrono::steady_clock::now();
  const std::uint64_t number = m_requests;
  // Validated byte-exact and without recursion (man/ipcat.1, PROTOCOL): the
  // handler gets the line as the client wrote it.
  line = strip_bom(line);  // dropped, as on every path
  JsonCheck check = check_json(line, m_ctx.options.max_depth);
  if (!check) {
    Json j = error_object("ParseError", "request is not valid JSON: " + check.why);
    if (check.status == JsonCheck::Status::too_deep) j["limit"] = m_ctx.options.max_depth;
    answered(seq, number, started, encode(j), {});
    return;
  }
  RequestContext ctx{m_id, m_requests, &m_peer, check.compact};
  if (m_ctx.handler == nullptr) {  // only refused connections have none, and they never read
    close();
    return;
  }
  if (m_ctx.log.enabled(LogLevel::debug)) m_ctx.log.debug("request", {{"connection", m_id}, {"request", number}});
  // --max-per-uid: one user cannot take every handler slot from the others.
  const std::size_t per_uid = m_ctx.options.max_per_uid;
  if (per_uid > 0 && m_peer.is_unix) {
    const std::size_t busy = m_ctx.requests_per_uid.held(m_peer.uid);
    if (busy >= per_uid) {
      Json j = error_object("Overloaded", "uid " + std::to_string(m_peer.uid) + " has " + std::to_string(busy) +
                                              " requests in flight (--max-per-uid " + std::to_string(per_uid) + ")");
      j["limit"] = per_uid;
      answered(seq, number, started, encode(j), {});
      return;
    }
    m_ctx.requests_per_uid.add(m_peer.uid);
  }
  // --max-pending's byte half: counted until the reply comes.
  const std::size_t bytes = line.size();
  m_waiting_bytes += bytes;
  m_ctx.handler->handle(ctx, line,
                        [self = shared_from_this(), seq, bytes, number, started](Reply reply, const Outcome& outcome) {
                          self->m_waiting_bytes -= bytes;
                          if (self->m_ctx.options.max_per_uid > 0 && self->m_peer.is_unix)
                            self->m_ctx.requests_per_uid.remove(self->m_peer.uid);
                          self->answered(seq, number, started, std::move(reply), outcome);
                        });
}

void Connection::answered(std::uint64_t seq, std::uint64_t number, std::chrono::steady_clock::time_point started,
                          Reply reply, const Outcome& outcome) {
  if (m_ctx.request_log != nullptr)
    m_ctx.request_log->finished(m_id, number, std::chrono::steady_clock::now() - started, reply, outcome);
  on_reply(seq, std::move(reply));
}

void Connection::watch_hangup() {
  if (!m_ctx.options.cancel_on_disconnect || !pending() || m_watching_hangup) return;
  // EOF alone is no hang-up: `ipcat request` shuts down its sending side and
  // waits for the reply. Only when the client has closed its socket (POLLHUP on a
  // Unix socket) is nobody left to read one.
  m_watching_hangup = true;
  m_socket.async_wait(Socket::wait_error, [self = shared_from_this()](const boost::system::error_code& ec) {
    self->m_watching_hangup = false;
    if (ec || self->m_closed) return;
    if (self->hung_up()) {
      self->client_gone();
    } else {
      self->watch_hangup();
    }
  });
  // It may have closed before the wait was armed.
  if (hung_up()) client_gone();
}

bool Connection::hung_up() {
  pollfd p{m_socket.native_handle(), POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

void Connection::client_gone() {
  if (m_cancelled || !m_ctx.options.cancel_on_disconnect || !m_ctx.handler) return;
  m_cancelled = true;
  m_ctx.log.info("client_gone", {{"connection", m_id}, {"pending", m_slots.size() - m_head}});
  // Keep this connection alive: the handlers call back into it as they stop.
  auto keep = shared_from_this();
  m_ctx.handler->cancel(m_id);
}

void Connection::add_final(std::string reply_line) {
  std::uint64_t seq = m_base_seq + m_slots.size();
  m_slots.emplace_back();
  m_close_after_flush = true;
  on_reply(seq, std::move(reply_line));
}

void Connection::on_reply(std::uint64_t seq, Reply reply) {
  if (!m_closed) {
    Slot& slot = m_slots[seq - m_base_seq];
    slot.done = true;
    slot.reply = std::move(reply);
    flush();
    maybe_resume_or_close();
  }
  m_ctx.answered();
}

void Connection::flush() {
  while (m_head < m_slots.size() && m_slots[m_head].done) {
    if (auto& r = m_slots[m_head].reply) {
      m_unsent += *r;
      m_unsent += '\n';
    }
    ++m_head;
  }
  if (m_head == m_slots.size()) {
    m_base_seq += m_slots.size();
    m_slots.clear();
    m_head = 0;
  }
  do_write();
}

void Connection::do_write() {
  if (m_write_busy || m_unsent.empty() || m_closed) return;
  m_write_busy = true;
  m_writing.swap(m_unsent);
  m_unsent.clear();
  asio::async_write(m_socket, asio::buffer(m_writing),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->m_write_busy = false;
                      self->m_writing.clear();
                      if (self->m_closed) return;
                      if (ec) {
                        self->close();  // the client went away; pending replies are discarded
                        return;
                      }
                      // Do not keep a large buffer around on an idle connection.
                      if (self->m_writing.capacity() > 65536) std::string().swap(self->m_writing);
                      self->do_write();
                      self->maybe_resume_or_close();
                    });
}

bool Connection::has_room() const noexcept {
  const ServerOptions& o = m_ctx.options;
  return m_slots.size() - m_head < o.max_pending && m_waiting_bytes < o.max_pending_bytes &&
         m_unsent.size() < o.max_unsent;
}

void Connection::maybe_resume_or_close() {
  if (m_closed || m_processing) return;
  // Lines already buffered go before reading more.
  if (has_room() && !m_close_after_flush && m_decoder.buffered() > 0) process_lines();
  if (m_closed) return;
  bool all_out = !pending() && !m_write_busy && m_unsent.empty();
  bool input_done = m_decoder.buffered() == 0 && (m_read_done || m_shutting_down);
  if (all_out && (m_close_after_flush || input_done)) {
    close();
    return;
  }
  if (has_room()) wait_readable();
}

void Connection::arm_idle_timer() {
  auto timeout = m_ctx.options.idle_timeout;
  if (timeout.count() <= 0) return;
  if (!m_idle_timer) m_idle_timer = std::make_unique<asio::steady_timer>(m_socket.get_executor());
  m_idle_timer->expires_after(timeout);
  m_idle_timer->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->m_closed) return;
    if (self->pending() || self->m_write_busy) {
      self->arm_idle_timer();  // busy, not idle
      return;
    }
    self->m_ctx.log.info("idle_timeout", {{"connection", self->m_id}});
    self->close();
  });
}

}  // namespace ipc
