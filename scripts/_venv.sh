# Sourced by scripts/demo and scripts/test: the project's virtualenv in .venv, created with the
# machine's python3 and reinstalled only when pyproject.toml changed since the last install.

STEMLINE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$STEMLINE_ROOT/.venv"
STAMP="$VENV/.stemline-installed"

say() { printf '%s\n' "$*" >&2; }

# ensure_venv [EXTRA]: .venv with the project installed (editable), with EXTRA (e.g. test).
ensure_venv() {
    local extra="${1:-}" python="${PYTHON:-python3}" want have target
    if ! command -v "$python" >/dev/null 2>&1; then
        say "error: $python not found; Stemline needs Python 3.11 or newer (set PYTHON=...)."
        return 1
    fi
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        say "error: $("$python" --version 2>&1) is too old; Stemline needs Python 3.11 or newer."
        return 1
    fi

    # Two scripts started at once must not install into the same .venv together.
    mkdir -p "$STEMLINE_ROOT/var"
    exec 9>"$STEMLINE_ROOT/var/.venv.lock"
    if command -v flock >/dev/null 2>&1; then flock 9; fi

    if [ -d "$VENV" ] && ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        say "The virtualenv in .venv is broken or too old; making a new one."
        rm -rf "$VENV"
    fi
    if [ ! -d "$VENV" ]; then
        say "Creating the virtualenv in .venv ..."
        if ! "$python" -m venv "$VENV"; then
            say "error: '$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)."
            rm -rf "$VENV"
            exec 9>&-
            return 1
        fi
    fi

    want="$(cd "$STEMLINE_ROOT" && "$VENV/bin/python" -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
    have="$(cat "$STAMP" 2>/dev/null || true)"
    # The stamp holds the hash of pyproject.toml and the extras installed with it; an install
    # with the test extra also serves the demo.
    if [ "$have" = "$want ${extra:-base}" ] || { [ -z "$extra" ] && [ "$have" = "$want test" ]; }; then
        exec 9>&-
        return 0
    fi
    target="."
    [ -n "$extra" ] && target=".[$extra]"
    say "Installing Stemline into .venv (pip install -e '$target'); the first time takes a minute ..."
    # -qq: errors only; a machine's pip configuration can add a page of harmless warnings.
    if ! (cd "$STEMLINE_ROOT" && "$VENV/bin/python" -m pip install -qq --disable-pip-version-check -e "$target"); then
        say "error: pip install -e '$target' failed."
        rm -f "$STAMP"
        exec 9>&-
        return 1
    fi
    printf '%s\n' "$want ${extra:-base}" >"$STAMP"
    exec 9>&-
}
