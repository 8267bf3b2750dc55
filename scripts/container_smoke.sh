#!/usr/bin/env bash
# Container smoke test for humans and CI: build the image, run it, wait for health, clean one
# fixture over HTTP, check the answer's exact fields and that nothing runs as root, clean up.
#
#   scripts/container_smoke.sh            # docker if an engine answers, else podman via
#                                         # /work/shared/tools/container-env.sh
#   IMAGE=registry/pagecleaner:1.2 scripts/container_smoke.sh
#
# The pytest version (with more checks) is tests/e2e/test_container.py.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/pagecleaner:smoke}
CONTAINER_ENV=${CONTAINER_ENV_SCRIPT:-/work/shared/tools/container-env.sh}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-120}
APP_UID=10001
CASE=fixtures/text-seed-news-recent-posts
EXPECTED_TITLE="Regulators recommend that Chinese developers abandon Nvidia accelerators in favor of Chinese analogues"

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  engine=(docker)
  build=(docker build -t "$IMAGE" .)
else
  "$CONTAINER_ENV" >/dev/null
  # shellcheck source=/dev/null
  source <("$CONTAINER_ENV" --print-env)
  read -r -a engine <<<"$PODMAN"
  # --from: the local stand-in for python:3.11-slim (no registry); docker format keeps HEALTHCHECK.
  build=("${engine[@]}" build --format docker --from "$BASE_IMAGE" --network host
    -v "$HOST_CA:$HOST_CA:ro" -t "$IMAGE" .)
fi

started=$(date +%s%N)
"${build[@]}" >/tmp/pagecleaner-smoke-build.log 2>&1 || { tail -40 /tmp/pagecleaner-smoke-build.log; exit 1; }
echo "build: $((($(date +%s%N) - started) / 1000000)) ms"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
name=pagecleaner-smoke-$$
cleanup() { "${engine[@]}" rm --force "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"${engine[@]}" run --detach --network host --name "$name" -e PORT="$port" -e CLEANER_EXTRACTORS=2 "$IMAGE" >/dev/null
url=http://127.0.0.1:$port

for ((i = 0; i < READY_TIMEOUT_S * 2; i++)); do
  python3 -c "import urllib.request as u; u.urlopen('$url/readyz', timeout=5)" 2>/dev/null && break
  if [[ $("${engine[@]}" inspect --format '{{.State.Running}}' "$name") != true ]]; then
    "${engine[@]}" logs "$name" | tail -40
    echo "FAIL: the container exited" >&2
    exit 1
  fi
  sleep 0.5
done
python3 -c "import urllib.request as u; u.urlopen('$url/readyz', timeout=5)" || { echo "FAIL: not ready" >&2; exit 1; }
echo "ready: $url"

python3 - "$url" "$CASE/input.txt" "$EXPECTED_TITLE" <<'EOF'
import json, sys, urllib.request
url, path, title = sys.argv[1:]
request = urllib.request.Request(
    url + "/v1/extract", data=open(path, "rb").read(), headers={"Content-Type": "text/plain; charset=utf-8"}
)
answer = json.load(urllib.request.urlopen(request, timeout=30))
assert answer["title"] == title, answer["title"]
assert answer["authors"] == ["admin"], answer["authors"]
print("extract: title and authors as expected")
EOF

uid=$("${engine[@]}" exec "$name" id -u)
[[ $uid == "$APP_UID" ]] || { echo "FAIL: the service runs as uid $uid" >&2; exit 1; }
echo "user: uid $uid (non-root)"
echo "OK"
