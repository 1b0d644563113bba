#!/usr/bin/env bash
# Bundle the browser libraries pinned in package-lock.json into our static files (no CDN):
# the player (media-chrome's controls, hls-video-element over hls.js) and the admin's
# direct uploader (Uppy). Run after `npm ci`; `make install` and the Dockerfile both call it,
# so the image serves exactly what a checkout does.
set -euo pipefail
cd "$(dirname "$0")/.."
esbuild=node_modules/.bin/esbuild
flags=(--bundle --minify --format=iife --target=es2020 --log-level=warning)

mkdir -p static/vendor/player static/vendor/uploader
printf 'import "media-chrome";\nimport "media-chrome/menu";\nimport "hls-video-element";\n' \
  | "$esbuild" "${flags[@]}" --outfile=static/vendor/player/media.js
# esbuild writes uploader.css beside it from the CSS the entry imports.
"$esbuild" static/js/admin-uploader.js "${flags[@]}" --outfile=static/vendor/uploader/uploader.js
