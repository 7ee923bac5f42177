#!/usr/bin/env bash
# Runs once per request: the body is on stdin, what this prints is the answer,
# a non-zero exit answers 500. Headers are variables: Http_Method, Http_Path,
# Http_Query, Http_Content_Type, ...
set -euo pipefail
body=$(cat)
echo "Hello from bash ${BASH_VERSION%%(*}: ${Http_Method:-POST} with ${#body} bytes: ${body}"
