#include "ipc/client/line_editor.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
// libedit's readline emulation (Debian: libedit-dev); after <cstdio>, which it needs.
#include <editline/readline.h>

namespace ipc {
namespace {

// libedit calls back without a context pointer: the one editor's state lives here.
std::vector<std::string>* g_lines = nullptr;
bool g_eof = false;

extern "C" void on_line(char* line) {
  if (line == nullptr) {
    g_eof = true;
    return;
  }
  if (*line != '\0') add_history(line);
  if (g_lines != nullptr) g_lines->emplace_back(line);
  std::free(line);  // NOLINT(cppcoreguidelines-no-malloc): libedit allocates it with malloc
}

// Ctrl-D on an empty line ends the input. libedit's callback mode swallows that
// end (el_gets returns NULL and no callback runs), so the key is bound here;
// libedit brings rl_end up to date before calling it.
extern "C" int on_ctrl_d(int /*count*/, int /*key*/) {
  if (rl_end == 0) g_eof = true;
  return 0;
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n <= 0) return;  // a terminal that went away: nothing to show it
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

LineEditor::LineEditor(const std::string& prompt) : m_prompt(prompt) {
  rl_readline_name = "ipcat";
  using_history();
  stifle_history(1000);
  g_eof = false;
  rl_callback_handler_install(prompt.c_str(), on_line);
  rl_add_defun("ipcat-end-of-input", on_ctrl_d, 0x04);
}

LineEditor::~LineEditor() {
  rl_callback_handler_remove();
  g_lines = nullptr;
}

int LineEditor::fd() const noexcept { return STDIN_FILENO; }

bool LineEditor::read_input(std::vector<std::string>& lines) {
  g_lines = &lines;
  std::size_t before = lines.size();
  rl_callback_read_char();
  g_lines = nullptr;
  // After a line, libedit's callback mode is left line-buffered with the old text
  // in its buffer (the next key would wait for a whole line, and a redraw would
  // show the old one): installing the handler again empties it and shows the prompt.
  if (lines.size() != before && !g_eof) rl_callback_handler_install(m_prompt.c_str(), on_line);
  return !g_eof;
}

void LineEditor::print_above(std::string_view text, int fd) {
  std::fflush(rl_outstream);
  // Carriage return and erase the line: the prompt and what was typed so far.
  write_all(STDOUT_FILENO, "\r\x1b[K");
  write_all(fd, text);
  rl_forced_update_display();
}

}  // namespace ipc
