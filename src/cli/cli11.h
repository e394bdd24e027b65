#pragma once
/// CLI11, without the start-up cost of <iostream>.
///
/// With libstdc++ before GCC 13, every file that includes <iostream> gets a static
/// std::ios_base::Init, which builds the eight standard streams and the classic
/// locale before main: ~50k instructions and ~10 page faults, a twentieth of a
/// one-shot `ipcat request`. CLI11 includes <iostream> to name the streams in
/// App::exit() (defaults), deprecate_option()/retire_option() (warnings) and
/// AutoTimer; ipcat uses none of these (help goes through stdio, errors through
/// cli::report). So <iostream> is skipped here and only the stream names are
/// declared. Using a stream without an ios_base::Init would be undefined
/// behaviour: tests/e2e/cli.bats checks that the binary links neither the
/// initialiser nor any of the four streams. Code that does need them must construct
/// a std::ios_base::Init first, which is what <iostream> would have done.

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
