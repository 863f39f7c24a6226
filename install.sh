#!/bin/sh
# Install git-shard from this clone with `cargo install` (into ~/.cargo/bin unless `--root` says
# otherwise; any argument goes to cargo install).
#
# On Linux with glibc the binary is linked statically (static-pie): the prompt segment runs at
# every shell prompt, and half of what a dynamically linked one executes is the dynamic loader's
# work (224 k instructions against 421 k, see benches/README.md). cargo applies a target's
# rustflags to proc-macros too unless a target is named, hence `--target`.
set -eu
cd "$(dirname "$0")"
host=$(rustc -vV | sed -n 's/^host: //p')
case $host in
*-linux-gnu)
    # RUSTFLAGS, when set, wins over every configured rustflags: the flag goes into it then.
    if [ -n "${RUSTFLAGS-}" ]; then
        RUSTFLAGS="$RUSTFLAGS -C target-feature=+crt-static" exec cargo install --locked --path . --target "$host" "$@"
    fi
    exec cargo install --locked --path . --target "$host" \
        --config "target.$host.rustflags = [\"-C\", \"target-feature=+crt-static\"]" "$@"
    ;;
*)
    exec cargo install --locked --path . "$@"
    ;;
esac
