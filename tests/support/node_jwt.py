"""Tokens minted and verified by Node's `jsonwebtoken`, the library the main API signs access tokens with.

Drives tests/node/mint.js, which pins the exact jsonwebtoken version in tests/node/package-lock.json.
Payloads and options cross to Node as JSON, so a Python float with no fraction (1.0) arrives as the number 1.
Typical use::

    if not node_jwt.node_available():
        pytest.skip("node is not installed")
    token = node_jwt.mint({"id": 7, "exp": int(time.time()) + 60}, secret)
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
MINT_JS = NODE_DIR / "mint.js"
TIMEOUT_SECONDS = 60
INSTALL_TIMEOUT_SECONDS = 300

_installed = False


class NodeJwtError(RuntimeError):
    """Node or its dependencies cannot be run, or mint.js failed for a reason other than a refused sign."""


class SignRefusedError(ValueError):
    """jsonwebtoken refused to sign; the message is the one it gave."""


def node_available() -> bool:
    """True when `node` and `npm` are on PATH (the tests that need them should skip otherwise)."""
    return shutil.which("node") is not None and shutil.which("npm") is not None


def _pinned_version() -> str:
    package = json.loads((NODE_DIR / "package.json").read_text())
    return str(package["dependencies"]["jsonwebtoken"])


def _installed_version() -> str | None:
    installed = NODE_DIR / "node_modules" / "jsonwebtoken" / "package.json"
    if not installed.is_file() or not (NODE_DIR / "node_modules" / ".package-lock.json").is_file():
        return None  # never installed, or an install that did not finish
    return str(json.loads(installed.read_text())["version"])


def ensure_installed() -> None:
    """Run `npm ci` in tests/node unless the pinned jsonwebtoken is already installed there.

    Safe to call from several pytest-xdist workers at once: they take turns on a lock file.
    """
    global _installed
    if _installed:
        return
    if not node_available():
        raise NodeJwtError("node and npm must be on PATH to mint tokens with jsonwebtoken (tests/node)")
    lock_name = "node-jwt-" + hashlib.sha256(str(NODE_DIR).encode()).hexdigest()[:16] + ".lock"
    with open(Path(tempfile.gettempdir()) / lock_name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version() != _pinned_version():
            npm = shutil.which("npm") or "npm"
            command = [npm, "ci", "--no-audit", "--no-fund"]
            try:
                done = subprocess.run(
                    command, cwd=NODE_DIR, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise NodeJwtError(f"`{' '.join(command[1:])}` in {NODE_DIR} timed out") from exc
            if done.returncode != 0:
                raise NodeJwtError(
                    f"`npm ci` in {NODE_DIR} failed (exit {done.returncode}); run it there by hand to see why.\n"
                    + (done.stderr or done.stdout)[-4000:]
                )
            if _installed_version() != _pinned_version():
                raise NodeJwtError(f"`npm ci` in {NODE_DIR} did not install jsonwebtoken {_pinned_version()}")
    _installed = True


def _run(document: object) -> list[str]:
    """Feed one JSON document to mint.js; return its output lines. Raises SignRefusedError on exit 2."""
    ensure_installed()
    node = shutil.which("node") or "node"
    try:
        done = subprocess.run(
            [node, str(MINT_JS)],
            input=json.dumps(document),
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise NodeJwtError(f"{MINT_JS} did not answer within {TIMEOUT_SECONDS} s") from exc
    if done.returncode == 2:
        raise SignRefusedError(done.stderr.strip())
    if done.returncode != 0:
        raise NodeJwtError(f"{MINT_JS} failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout.splitlines()


def mint(payload: dict[str, Any], secret: str, **options: Any) -> str:
    """jwt.sign(payload, secret, {algorithm: "HS256", ...options}); options use jsonwebtoken's names
    (expiresIn, notBefore, noTimestamp, header, keyid, ...). Raises SignRefusedError if it refuses."""
    return _run({"payload": payload, "secret": secret, "options": options})[0]


def mint_many(items: list[tuple[dict[str, Any], str, dict[str, Any]]]) -> list[str]:
    """Mint many tokens in one Node process: items are (payload, secret, options); tokens come back in order.
    Raises SignRefusedError ("item N: <message>") if any one is refused."""
    if not items:
        return []
    lines = _run([{"payload": payload, "secret": secret, "options": options} for payload, secret, options in items])
    if len(lines) != len(items):
        raise NodeJwtError(f"{MINT_JS} printed {len(lines)} tokens for {len(items)} items")
    return lines


def sign_error(payload: dict[str, Any], secret: str, **options: Any) -> str | None:
    """The message jsonwebtoken gives when it refuses to sign this, or None if it signs it."""
    try:
        mint(payload, secret, **options)
    except SignRefusedError as exc:
        return str(exc)
    return None


def verify_with_node(token: str, secret: str, **options: Any) -> dict[str, Any]:
    """jwt.verify(token, secret, {algorithms: ["HS256"], ...options}): the decoded payload, or
    {"error": err.name, "message": err.message} (e.g. "TokenExpiredError", "JsonWebTokenError")
    when it throws. Options use jsonwebtoken's names (clockTolerance, clockTimestamp, maxAge, ...)."""
    line = _run({"mode": "verify", "token": token, "secret": secret, "options": options})[0]
    result: dict[str, Any] = json.loads(line)
    return result
