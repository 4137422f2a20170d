#!/usr/bin/env bash
# Runs pytorch_peer.py with a Python that has torch: $PYTHON if set, else the first of python3 and
# /usr/bin/python3 (Debian's python3-torch lives there when another python3 comes first on the PATH).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for py in ${PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import torch, numpy' >/dev/null 2>&1; then
        exec "$py" "$here/pytorch_peer.py" "$@"
    fi
done
echo "pytorch_peer: no Python with torch and numpy found (apt-get install python3-torch, or set PYTHON)" >&2
exit 2
