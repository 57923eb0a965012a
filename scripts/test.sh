#!/usr/bin/env bash
# The project's test command (README): installs what the tests need that Go cannot fetch by itself, then
# runs every Go test. Safe to re-run; each install step is skipped when already satisfied.
set -euo pipefail
cd "$(dirname "$0")/.."

# Independent (non-Go) readers of our Arrow and Parquet files, from the npm registry.
if command -v npm >/dev/null 2>&1; then
  for tool in tools/*/; do
    if [ -f "$tool/package-lock.json" ] && [ ! -d "$tool/node_modules" ]; then
      echo "installing $tool npm packages" >&2
      # npm install, not npm ci: the lock file lists only this platform's optional native package.
      npm install --prefix "$tool" --no-audit --no-fund --loglevel=error >&2
    fi
  done
else
  echo "npm not found: the cross-checks against polars/DuckDB will be skipped" >&2
fi

# Debian packages some tests need (listed in scripts/test-packages.txt), when we may install them.
if [ -s scripts/test-packages.txt ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  while read -r pkg; do
    [ -z "$pkg" ] || [[ "$pkg" == \#* ]] && continue
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done < scripts/test-packages.txt
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing ${missing[*]}" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >&2
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >&2
    else
      echo "not installing ${missing[*]} (not root): tests that need them will skip" >&2
    fi
  fi
fi

export CGO_ENABLED=0

# staticcheck at a pinned version, installed with `go install` when missing or different.
staticcheck_version=v0.8.2 # staticcheck 2026.2.2
gobin="$(go env GOBIN)"
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
if ! "$gobin/staticcheck" -version 2>/dev/null | grep -q "(${staticcheck_version#v})"; then
  echo "installing staticcheck $staticcheck_version" >&2
  go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
fi

go vet ./...
"$gobin/staticcheck" ./...
go test -count=1 -timeout 30m "$@" ./...
# Every benchmark once: they build their inputs and check their outputs, so they must keep working.
go test -count=1 -run '^$' -bench . -benchtime 1x -timeout 20m ./...

# The desktops evtool builds for without cgo (README, "Install"), player included; compiled, not run.
# Optimisation off (-N -l) makes the foreign builds about a third faster; this machine's own platform was
# just built by the tests, and the same flags make its build a cache hit.
PLATFORMS="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64"
for platform in $PLATFORMS; do
  echo "cross-building evtool for $platform" >&2
  flags=(-gcflags='all=-N -l')
  [ "$platform" = "$(go env GOOS)/$(go env GOARCH)" ] && flags=()
  GOOS=${platform%/*} GOARCH=${platform#*/} go build ${flags[@]+"${flags[@]}"} -o /dev/null ./cmd/evtool
done
