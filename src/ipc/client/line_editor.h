#pragma once
/// LineEditor: line editing and history for `ipcat connect` on a terminal, through
/// libedit's readline interface in callback mode, so that the caller keeps its own
/// poll(2) loop: lines the server pushes are printed above the line being typed,
/// which is then redrawn.
///
///   poll(fd()) ──readable──► read_input() ──► complete lines / end of input
///   print_above(text)      ──► clear the edit line, print, redraw prompt + typing
///
/// Only one LineEditor exists at a time (libedit's readline state is global). It
/// is built only when connect runs on a terminal: nothing of libedit runs otherwise.

#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

namespace ipc {

class LineEditor {
 public:
  /// Takes over the terminal on stdin/stdout with `prompt`.
  explicit LineEditor(const std::string& prompt);
  ~LineEditor();
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  /// The fd to poll for input (stdin).
  int fd() const noexcept;
  /// Reads what the terminal has; appends each line the user completed (Enter) to
  /// `lines` and records it in the history. Returns false once input ended (Ctrl-D
  /// on an empty line).
  bool read_input(std::vector<std::string>& lines);
  /// Prints `text` (whole lines, each ending in '\n') to `fd` above the edit line.
  void print_above(std::string_view text, int fd = STDOUT_FILENO);

 private:
  std::string m_prompt;
};

}  // namespace ipc
