#!/usr/bin/env node
// A file that exists before the build, so that npm links the `hearsay` command in a fresh checkout too.
import '../dist/cli/main.js';
