#!/bin/sh
# The request body arrives on stdin; what this prints is the answer.
echo "Hello from a Dockerfile function, you said: $(cat)"
