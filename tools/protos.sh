#!/usr/bin/env bash
# Protobuf contracts: generate the Python stubs, check they are current, lint, breaking-change check.
#
#   tools/protos.sh generate   regenerate libs/contracts/src/mrc from protos/ (byte-identical on re-run)
#   tools/protos.sh check      fail if the committed stubs differ from what generate would write
#   tools/protos.sh lint       buf lint (STANDARD rules, see protos/buf.yaml)
#   tools/protos.sh breaking   buf breaking (FILE rules) against the last contracts (see cmd_breaking)
#   tools/protos.sh all        check + lint + breaking
#
# buf comes from npm (package.json at the repo root); it is installed with `npm ci` when missing.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$REPO_ROOT/tools/$(basename "${BASH_SOURCE[0]}")"
cd "$REPO_ROOT"

PROTO_DIR="protos"
OUT_ROOT="libs/contracts/src"
PKG="mrc"

# Scratch directories, removed on exit however the script ends.
SCRATCH=()
cleanup() {
    if [ "${#SCRATCH[@]}" -gt 0 ]; then rm -rf "${SCRATCH[@]}"; fi
}
trap cleanup EXIT

# new_scratch: makes a scratch directory and leaves its path in $SCRATCH_DIR (no subshell, so
# cleanup sees it).
new_scratch() {
    SCRATCH_DIR="$(mktemp -d)"
    SCRATCH+=("$SCRATCH_DIR")
}

usage() {
    sed -n '2,9p' "$SELF" | sed 's/^# \{0,1\}//'
}

proto_files() {
    # Paths relative to PROTO_DIR, sorted bytewise so the protoc invocation never depends on locale.
    (cd "$PROTO_DIR" && find "$PKG" -name '*.proto' -type f | LC_ALL=C sort)
}

# gen_into DIR: writes the generated package tree DIR/mrc (DIR must be empty or not exist).
gen_into() {
    local out="$1"
    mkdir -p "$out"
    local files=()
    mapfile -t files < <(proto_files)
    if [ "${#files[@]}" -eq 0 ]; then
        echo "protos.sh: no .proto files under $PROTO_DIR/$PKG" >&2
        return 1
    fi

    # mypy-protobuf's plugins (protoc-gen-mypy, protoc-gen-mypy_grpc) are on PATH under `uv run`.
    # They print a "Writing mypy to ..." line per file on stderr: keep that for failures only.
    local log="$out/.protoc.log"
    if ! uv run --quiet python -m grpc_tools.protoc -I"$PROTO_DIR" \
        --python_out="$out" --grpc_python_out="$out" \
        --mypy_out="$out" --mypy_grpc_out="$out" \
        "${files[@]}" 2>"$log"; then
        grep -v '^Writing mypy to ' "$log" >&2 || true
        echo "protos.sh: protoc with the mypy-protobuf plugins failed; falling back to protoc's --pyi_out" >&2
        rm -rf "${out:?}/$PKG"
        uv run --quiet python -m grpc_tools.protoc -I"$PROTO_DIR" \
            --python_out="$out" --grpc_python_out="$out" --pyi_out="$out" \
            "${files[@]}"
    fi
    rm -f "$log"

    # Regular packages all the way down, so mypy, hatch and setuptools all find them.
    local d
    while IFS= read -r d; do
        : >"$d/__init__.py"
    done < <(find "$out/$PKG" -type d | LC_ALL=C sort)
    : >"$out/$PKG/py.typed"
}

cmd_generate() {
    local tmp
    new_scratch
    tmp="$SCRATCH_DIR"
    gen_into "$tmp"
    # libs/contracts/src/mrc holds generated code only: replace it whole, so removed protos vanish too.
    rm -rf "${OUT_ROOT:?}/$PKG"
    mkdir -p "$OUT_ROOT"
    cp -R "$tmp/$PKG" "$OUT_ROOT/$PKG"
    echo "protos.sh: generated $(proto_files | wc -l | tr -d ' ') proto files into $OUT_ROOT/$PKG"
}

cmd_check() {
    local tmp
    new_scratch
    tmp="$SCRATCH_DIR"
    gen_into "$tmp"
    if ! diff -r -x __pycache__ -x '*.pyc' "$tmp/$PKG" "$OUT_ROOT/$PKG" >"$tmp/diff.txt" 2>&1; then
        head -n 40 "$tmp/diff.txt" >&2
        echo "protos.sh: stubs are stale: run make protos (or tools/protos.sh generate) and commit the result" >&2
        return 1
    fi
    echo "protos.sh: stubs are up to date"
}

ensure_buf() {
    if [ ! -x node_modules/.bin/buf ]; then
        echo "protos.sh: node_modules/.bin/buf missing; running npm ci" >&2
        npm ci --no-audit --no-fund
    fi
}

buf() {
    npx --no-install buf "$@"
}

cmd_lint() {
    ensure_buf
    buf lint "$PROTO_DIR"
    echo "protos.sh: buf lint passed"
}

# has_protos_at REV: true when REV is a commit in this clone and holds protos/buf.yaml.
has_protos_at() {
    git rev-parse --verify --quiet "$1^{commit}" >/dev/null 2>&1 &&
        git cat-file -e "$1:$PROTO_DIR/buf.yaml" 2>/dev/null
}

# Baselines, in order: $MRC_BUF_AGAINST alone if set (any buf input: a folder, .git#ref=...);
# otherwise the newest contracts/v* tag, or else HEAD~1 when it holds protos/buf.yaml; plus HEAD
# itself, so uncommitted breaking edits fail too. Nothing to compare against (first commit,
# shallow clone): say so and pass.
cmd_breaking() {
    ensure_buf
    local against=()
    if [ -n "${MRC_BUF_AGAINST:-}" ]; then
        against+=("$MRC_BUF_AGAINST")
    elif ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        echo "protos.sh: breaking: not a git work tree and MRC_BUF_AGAINST unset; nothing to compare against"
        return 0
    else
        local tag
        tag="$(git tag --list 'contracts/v*' --sort=-v:refname | head -n 1)"
        if [ -n "$tag" ] && has_protos_at "refs/tags/$tag"; then
            # The last released contracts.
            against+=(".git#tag=$tag,subdir=$PROTO_DIR")
        elif has_protos_at HEAD~1; then
            # The change made by the last commit.
            against+=(".git#ref=HEAD~1,subdir=$PROTO_DIR")
        else
            echo "protos.sh: breaking: no contracts/v* tag and HEAD~1 is absent (first commit or shallow" \
                "clone) or has no $PROTO_DIR/buf.yaml; skipping the committed-history comparison"
        fi
        if has_protos_at HEAD; then
            # Uncommitted edits in the work tree.
            against+=(".git#ref=HEAD,subdir=$PROTO_DIR")
        else
            echo "protos.sh: breaking: HEAD has no $PROTO_DIR/buf.yaml; skipping the work-tree comparison"
        fi
    fi
    if [ "${#against[@]}" -eq 0 ]; then
        echo "protos.sh: breaking: nothing to compare against; passing"
        return 0
    fi
    local ref rc=0
    for ref in "${against[@]}"; do
        echo "protos.sh: buf breaking $PROTO_DIR --against $ref"
        buf breaking "$PROTO_DIR" --against "$ref" || rc=1
    done
    if [ "$rc" -ne 0 ]; then
        echo "protos.sh: breaking changes found; keep v1 wire- and source-compatible or add a v2 package" >&2
        return 1
    fi
    echo "protos.sh: no breaking changes"
}

main() {
    case "${1:-}" in
    generate) cmd_generate ;;
    check) cmd_check ;;
    lint) cmd_lint ;;
    breaking) cmd_breaking ;;
    all)
        cmd_check
        cmd_lint
        cmd_breaking
        ;;
    -h | --help | help)
        usage
        ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
