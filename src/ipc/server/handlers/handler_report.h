#pragma once
/// What an error reply and the request log quote of a handler that failed
/// (man/ipcat.1, PROTOCOL): the first bytes of what it printed, the last
/// lines of its standard error, its exit status or signal. Every excerpt is
/// bounded (--max-quoted) and cut at a character boundary; the reply's encoder
/// escapes it (json_value.h: encode).

#include <cstddef>
#include <string>
#include <string_view>

#include "ipc/process/child.h"
#include "ipc/wire/json_value.h"

namespace ipc {

/// The first `max` bytes of `text` (never splitting a UTF-8 sequence), with "..."
/// added when some were left out.
std::string excerpt_head(std::string_view text, std::size_t max);

/// The end of `text`, at most `max` bytes: from the start of a line when that
/// leaves something, never splitting a UTF-8 sequence; surrounding white space
/// removed.
std::string excerpt_tail(std::string_view text, std::size_t max);

/// Adds "status" (an exit) or "signal" (a death by signal) to an error object.
void add_exit_status(Json& reply, const ExitStatus& status);

/// Adds "stderr" when `tail` is not empty.
void add_stderr(Json& reply, const std::string& tail);

}  // namespace ipc
