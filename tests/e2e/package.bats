#!/usr/bin/env bats
# Installation: `cmake --install` puts every file in its standard place, and
# `cpack` makes a .deb whose Depends covers what the binary links, that unpacks
# (dpkg -x) into a root from which ipcat runs, and that lintian finds nothing in.

load test_helper

ROOT=${IPCAT_SOURCE_DIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
# The build tree of the binary under test (ctest passes it; by hand, IPCAT's directory).
BUILD=${IPCAT_BUILD_DIR:-$(dirname "$IPCAT")}

# The files besides the binary, relative to the prefix.
INSTALLED_DOCS=(
  share/man/man1/ipcat.1
  share/bash-completion/completions/ipcat
  share/zsh/vendor-completions/_ipcat
  share/fish/vendor_completions.d/ipcat.fish
)

setup_file() {
  [[ -f $BUILD/CPackConfig.cmake ]] || {
    echo "no CPackConfig.cmake in $BUILD: set IPCAT_BUILD_DIR to the build tree" >&2
    return 1
  }
  command -v cpack >/dev/null || return 0
  # One package for the whole file, made outside the build tree (-B).
  cpack --config "$BUILD/CPackConfig.cmake" -B "$BATS_FILE_TMPDIR/pkg" >"$BATS_FILE_TMPDIR/cpack.log" 2>&1 || {
    cat "$BATS_FILE_TMPDIR/cpack.log" >&2
    return 1
  }
}

# Whether the build tree was configured for a static binary: IPCAT_STATIC (default
# ON) without a sanitizer (CMakeLists.txt).
static_build() {
  grep -qE '^IPCAT_STATIC:BOOL=(ON|TRUE|1)$' "$BUILD/CMakeCache.txt" &&
    grep -qE '^IPCAT_SANITIZE:STRING=$' "$BUILD/CMakeCache.txt"
}

setup() {
  command -v cpack || skip "cpack is not installed (it comes with cmake)"
  deb=$(echo "$BATS_FILE_TMPDIR"/pkg/ipcat_*.deb)
}

@test "cmake --install puts the binary, man page and completions in the standard places" {
  local prefix=$BATS_TEST_TMPDIR/prefix
  # A configure step records which of these files exist: pick up new ones first.
  run cmake --install "$BUILD" --prefix "$prefix"
  assert_success
  assert_file_executable "$prefix/bin/ipcat"
  local f
  for f in "${INSTALLED_DOCS[@]}"; do
    assert_file_exist "$prefix/$f"
  done
  cmp "$ROOT/man/ipcat.1" "$prefix/share/man/man1/ipcat.1"
  cmp "$ROOT/completions/ipcat.bash" "$prefix/share/bash-completion/completions/ipcat"
  cmp "$ROOT/completions/_ipcat" "$prefix/share/zsh/vendor-completions/_ipcat"
  cmp "$ROOT/completions/ipcat.fish" "$prefix/share/fish/vendor_completions.d/ipcat.fish"
}

@test ".deb: dpkg -x into a temporary root, ipcat --version runs from there" {
  [[ -f $deb ]] || fail "cpack made no ipcat_*.deb"
  local root=$BATS_TEST_TMPDIR/root
  run dpkg -x "$deb" "$root"
  assert_success
  run "$root/usr/bin/ipcat" --version
  assert_success
  assert_output --regexp '^ipcat [0-9]+\.[0-9]+\.[0-9]+ \(Boost 1\.81\.[0-9]+, nlohmann_json 3\.[0-9]+\.[0-9]+\)$'
  # And it works: a daemon from the package answers the package's client.
  local sock=$BATS_TEST_TMPDIR/pkg.sock
  "$root/usr/bin/ipcat" serve "$sock" --echo </dev/null 2>/dev/null 3>&- &
  track_pid $!
  wait_for "packaged ipcat serve" 10 socket_accepts "$sock"
  run timeout 10 "$root/usr/bin/ipcat" request "$sock" from=deb
  assert_output '{"from":"deb"}'
  stop_tracked
}

@test ".deb: the man page and the three completion files are in it, under /usr" {
  local root=$BATS_TEST_TMPDIR/root f
  dpkg -x "$deb" "$root"
  # As Debian policy has it, the man page compressed (gzip -9n).
  for f in "${INSTALLED_DOCS[@]/%ipcat.1/ipcat.1.gz}"; do
    assert_file_exist "$root/usr/$f"
  done
  cmp "$ROOT/man/ipcat.1" <(gzip -dc "$root/usr/share/man/man1/ipcat.1.gz")
  run env MANWIDTH=80 man -l "$root/usr/share/man/man1/ipcat.1.gz"
  assert_success
  assert_line --regexp '^ +ipcat pidfile-run$'
  # The packaged bash completion works.
  run bash --norc --noprofile -c 'source "$1"; COMP_WORDS=(ipcat pidf); COMP_CWORD=1; _ipcat; echo "${COMPREPLY[*]}"' \
    bash "$root/usr/share/bash-completion/completions/ipcat"
  assert_output pidfile-run
}

@test ".deb: control fields are right and Depends covers every library the binary links" {
  run dpkg-deb -f "$deb" Package Architecture Section Version
  assert_success
  assert_line "Package: ipcat"
  assert_line "Architecture: $(dpkg --print-architecture)"
  assert_line "Section: utils"
  assert_line --regexp '^Version: [0-9]+\.[0-9]+\.[0-9]+$'
  local depends root=$BATS_TEST_TMPDIR/root lib path package
  depends=$(dpkg-deb -f "$deb" Depends)
  dpkg -x "$deb" "$root"
  local needed
  needed=$(objdump -p "$root/usr/bin/ipcat" | awk '$1 == "NEEDED" { print $2 }')
  if static_build; then
    # A static PIE (-DIPCAT_STATIC=ON, the default): no loader, no library, no
    # Depends, and still position-independent (ASLR).
    [[ -z $needed ]] || fail "a static build needs shared libraries: $needed"
    [[ -z $depends ]] || fail "a static binary's package depends on '$depends'"
    run readelf -lh "$root/usr/bin/ipcat"
    assert_output --partial "DYN (Position-Independent Executable file)"
    refute_output --partial "INTERP"
    run "$root/usr/bin/ipcat" --version
    assert_success
    return
  fi
  # Each shared library the binary needs comes from a package that Depends names.
  [[ -n $depends ]] || fail "the package has no Depends"
  [[ -n $needed ]] || fail "objdump found no NEEDED entry"
  for lib in $needed; do
    # Where the loader finds it, as ldd says ("libc.so.6 => /lib/.../libc.so.6").
    path=$(ldd "$root/usr/bin/ipcat" | awk -v lib="$lib" '$1 == lib && $2 == "=>" { print $3 } $1 ~ "/" lib "$" { print $1 }' | head -1)
    [[ -n $path ]] || fail "$lib: ldd does not resolve it"
    # dpkg knows the path it installed (/lib/... or /usr/lib/..., whichever).
    package=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
    [[ -n $package ]] || package=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
    [[ -n $package ]] || fail "$lib ($path): no package owns it"
    grep -qE "(^|, )${package//+/\\+}( |,|\$)" <<<"$depends" || fail "Depends '$depends' lacks $package (for $lib)"
  done
  # Nothing it needs is missing when it runs from the unpacked root.
  run ldd "$root/usr/bin/ipcat"
  refute_output --partial "not found"
}

@test ".deb: the tool's files only: no library, headers or CMake package" {
  # A tool package (CMakeLists.txt, "package"): the Dockerfile's runtime stage
  # installs it whole, so nothing here may be a build-time file.
  local files
  files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $NF }' | sed 's|^\.||')
  grep -qx /usr/bin/ipcat <<<"$files" || fail "no /usr/bin/ipcat in the package"
  run grep -E '^/usr/(include|lib)/' <<<"$files"
  assert_output ""
  run grep -vxE '/usr/bin/ipcat|/usr/share/man/man1/ipcat\.1\.gz|/usr/share/doc/ipcat/(copyright|changelog\.gz)|/usr/share/lintian/overrides/ipcat|/usr/share/(bash-completion/completions/ipcat|zsh/vendor-completions/_ipcat|fish/vendor_completions\.d/ipcat\.fish)' <<<"$files"
  assert_output ""
}

@test ".deb: lintian finds nothing, not even an informational tag" {
  command -v lintian || skip "lintian is not installed (scripts/deps installs it)"
  # As root lintian warns about it on stderr; what it finds is on stdout.
  run --separate-stderr lintian --info --display-info --no-tag-display-limit "$deb"
  assert_output ""
  assert_success
}

@test ".deb: the changelog's version is the package's, the copyright file is machine-readable" {
  local root=$BATS_TEST_TMPDIR/root version
  dpkg -x "$deb" "$root"
  version=$(dpkg-deb -f "$deb" Version)
  run bash -c 'gzip -dc "$1" | head -1' bash "$root/usr/share/doc/ipcat/changelog.gz"
  assert_output --regexp "^ipcat \($version\) [a-z]+; urgency=[a-z]+\$"
  run head -1 "$root/usr/share/doc/ipcat/copyright"
  assert_output "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  # The binary's own version is the package's.
  run "$root/usr/bin/ipcat" --version
  assert_output --regexp "^ipcat $version "
}

teardown() {
  stop_tracked
}
