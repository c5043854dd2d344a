#!/bin/sh
# embed.sh SYMBOL FILE: print C source defining SYMBOL (bytes of FILE, NUL-terminated)
# and SYMBOL_len (length without the NUL).
set -e
sym=$1; file=$2
printf '/* generated from %s by build-aux/embed.sh; do not edit */\n#include <stddef.h>\n' "$(basename "$file")"
printf 'const unsigned char %s[] = {\n' "$sym"
od -An -v -tx1 "$file" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g' -e 's/^/ /'
printf ' 0x00\n};\nconst size_t %s_len = sizeof(%s) - 1;\n' "$sym" "$sym"
