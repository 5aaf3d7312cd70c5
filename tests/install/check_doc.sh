#!/usr/bin/env bash
# docs/getting-started.md cannot rot: every fenced block in it must be preceded by a marker
# saying how it is checked, and the check must pass.
#   <!-- file: PATH -->          the block is the file PATH (repository-relative), byte for
#                                byte; tests/install/run.sh builds and runs those files
#   <!-- excerpt: PATH -->       every line of the block is in PATH, in order (each line,
#                                trailing comment aside, is part of one of PATH's lines)
#   <!-- check: make-install --> the block is `sudo make install`, and `make -n install`
#                                really runs `cmake --install`
# usage: check_doc.sh SOURCE_DIR [DOC]
set -euo pipefail
src=$(cd "$1" && pwd)
doc=${2:-$src/docs/getting-started.md}
work=$(mktemp -d "${TMPDIR:-/tmp}/ebpf-doc-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Split the page into blocks: block N's marker in N.marker, its text in N.text.
awk -v dir="$work" '
  /^```/ {
    if (!inside) { inside = 1; n++; printf "%s", marker > (dir "/" n ".marker"); printf "" > (dir "/" n ".text"); next }
    inside = 0; marker = ""; next
  }
  inside { print >> (dir "/" n ".text"); next }
  /^<!-- (file|excerpt|check): .* -->$/ { marker = $0; next }
  /[^[:space:]]/ { marker = "" }
' "$doc"

status=0
blocks=0
for m in "$work"/*.marker; do
  [ -e "$m" ] || break
  blocks=$((blocks + 1))
  n=$(basename "$m" .marker)
  marker=$(cat "$m")
  text=$work/$n.text
  case "$marker" in
    "<!-- file: "*)
      path=${marker#<!-- file: }
      path=${path% -->}
      if [ ! -f "$src/$path" ]; then
        echo "block $n: $path does not exist"; status=1
      elif ! diff -u "$src/$path" "$text" >"$work/diff" 2>&1; then
        echo "block $n differs from $path:"; cat "$work/diff"; status=1
      fi
      ;;
    "<!-- excerpt: "*)
      path=${marker#<!-- excerpt: }
      path=${path% -->}
      if [ ! -f "$src/$path" ]; then
        echo "block $n: $path does not exist"; status=1
      elif ! awk -v file="$src/$path" '
          BEGIN { while ((getline line < file) > 0) lines[++count] = line; at = 1 }
          {
            want = $0
            sub(/[[:space:]]+\/\/ .*$/, "", want)   # a comment the page adds
            sub(/^[[:space:]]+/, "", want); sub(/[[:space:]]+$/, "", want)
            if (want == "") next
            while (at <= count && index(lines[at], want) == 0) at++
            if (at > count) { print "not in the file (in order): " $0; bad = 1; exit }
            at++
          }
          END { exit bad }' "$text"; then
        echo "block $n is not an excerpt of $path"; status=1
      fi
      ;;
    "<!-- check: make-install -->")
      if [ "$(cat "$text")" != "sudo make install" ]; then
        echo "block $n: expected 'sudo make install', found: $(cat "$text")"; status=1
      elif ! grep -qx "cmake --install build --prefix /usr/local" <<<"$(make -C "$src" -n install PREFIX=/usr/local)"; then
        echo "block $n: 'make install' does not run cmake --install"; status=1
      fi
      ;;
    *)
      echo "block $n has no check marker (<!-- file: PATH --> or <!-- check: … -->):"; head -3 "$text"; status=1
      ;;
  esac
done
if [ "$blocks" -eq 0 ]; then
  echo "no code blocks found in $doc"; status=1
fi
[ $status -eq 0 ] && echo "$doc: $blocks blocks, each checked"
exit $status
