#!/usr/bin/env node
// Mints (and verifies) tokens with `jsonwebtoken`, the library the main API signs its access tokens with,
// so the Python tests can check the service against real tokens. Driven by tests/support/node_jwt.py.
//
// stdin is one JSON value:
//   {"payload": {...}, "secret": "...", "options": {...}}
//       prints jwt.sign(payload, secret, {algorithm: "HS256", ...options}) and a newline.
//       If jsonwebtoken refuses to sign: prints its message to stderr and exits 2.
//   [item, item, ...]            (each item as above)
//       prints one token per line, in order. If any item is refused: prints nothing on stdout,
//       "item N: <message>" on stderr, exits 2.
//   {"mode": "verify", "token": "...", "secret": "...", "options": {...}}
//       prints one line of JSON: the result of jwt.verify(token, secret, {algorithms: ["HS256"], ...options}),
//       or {"error": err.name, "message": err.message} when it throws. Exits 0 either way.
//       A verify item may also appear in an array; then every line of the output is that JSON.
// Bad input (not JSON, wrong shape) exits 1.
"use strict";

const jwt = require("jsonwebtoken");

function fail(code, message) {
  process.stderr.write(message + "\n");
  process.exit(code);
}

function sign(item) {
  return jwt.sign(item.payload, item.secret, { algorithm: "HS256", ...(item.options || {}) });
}

function verify(item) {
  try {
    return jwt.verify(item.token, item.secret, { algorithms: ["HS256"], ...(item.options || {}) });
  } catch (err) {
    return { error: err.name, message: err.message };
  }
}

function run(item) {
  if (item.mode === "verify") {
    return JSON.stringify(verify(item));
  }
  return sign(item);
}

function main(text) {
  let input;
  try {
    input = JSON.parse(text);
  } catch (err) {
    fail(1, "stdin is not JSON: " + err.message);
  }
  const items = Array.isArray(input) ? input : [input];
  items.forEach((item, i) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      fail(1, `item ${i} is not a JSON object`);
    }
  });
  const lines = [];
  for (let i = 0; i < items.length; i++) {
    try {
      lines.push(run(items[i]));
    } catch (err) {
      fail(2, Array.isArray(input) ? `item ${i}: ${err.message}` : err.message);
    }
  }
  process.stdout.write(lines.map((line) => line + "\n").join(""));
}

const chunks = [];
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => main(chunks.join("")));
