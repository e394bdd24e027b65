#pragma once
/// CLI11, without the start-up cost of <iostream>.
///
/// With libstdc++ before GCC 13, every file that includes <iostream> gets a static
/// std::ios_base::Init, which builds the eight standard streams and the classic
/// locale before main: ~50k instructions and ~10 page faults, a twentieth of a
/// one-shot `ipcat request`. CLI11 includes <iostream> only to name std::cout and
/// std::cerr as defaults of App::exit(), which ipcat never calls (help goes through
/// stdio, errors through cli::report). So <iostream> is skipped here and only those
/// names are declared; nothing in ipcat touches the standard streams, and the
/// bench (scripts/bench, "startup" info line) checks that no ios_base::Init is
/// linked. Anything that does need the streams must construct a
/// std::ios_base::Init first, which is what <iostream> would have done.

#include <istream>
#include <ostream>

#if defined(__GLIBCXX__) && defined(_GLIBCXX_RELEASE) && _GLIBCXX_RELEASE < 13 && \
    !defined(_GLIBCXX_IOSTREAM)
#define _GLIBCXX_IOSTREAM 1  // NOLINT(bugprone-reserved-identifier): <iostream>'s own guard
namespace std {              // NOLINT(cert-dcl58-cpp): the declarations <iostream> makes
extern istream cin;
extern ostream cout;
extern ostream cerr;
extern ostream clog;
}  // namespace std
#endif

#include <CLI/CLI.hpp>
