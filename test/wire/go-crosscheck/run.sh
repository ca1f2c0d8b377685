#!/bin/sh
# Runs crosscheck_test.go against memberlist 0.2.2's sources (apt-get install golang-go
# golang-github-hashicorp-memberlist-dev). Usage: run.sh FIXTURE.json
set -eu
SRC=/usr/share/gocode/src/github.com/hashicorp/memberlist
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PKG="$WORK/src/github.com/hashicorp/memberlist"
mkdir -p "$PKG"
for f in "$SRC"/*.go; do case "$f" in *_test.go) ;; *) cp "$f" "$PKG/" ;; esac; done
cp "$(dirname "$0")/crosscheck_test.go" "$PKG/"
cd "$PKG"
HEARSAY_FIXTURE=$(realpath "$1") GO111MODULE=off GOPATH="$WORK:/usr/share/gocode" \
  go test -count=1 -run TestHearsayCrosscheck -v . 2>&1 | tail -40
