#pragma once
/// Durations as ipcat writes them, the same in every message and log line
/// (man/ipcat.1, PROTOCOL and LOG): "2 s", "1.5 s", "500 ms", "0.412 ms" in text,
/// milliseconds as a number in a log field.

#include <chrono>
#include <string>

namespace ipc {

/// Seconds from one second up, milliseconds below; at most 4 significant digits,
/// no trailing zeros.
std::string duration_text(std::chrono::nanoseconds d);

/// Milliseconds as a log field's number, rounded to microseconds.
double duration_ms(std::chrono::nanoseconds d);

}  // namespace ipc
