"""`make stream-keys STAGE=prod`: a signing key pair for the stage's CloudFront key group.

ECDSA P-256 (CloudFront accepts it beside RSA 2048, and it signs a URL in tens of
microseconds). Written to ``infra/stream-keys/<stage>-private.pem`` (mode 0600) and
``-public.pem``, which `make deploy` passes as the StreamSigningPrivateKey and
StreamSigningPublicKey stack parameters; the private key then lives only in the
stack's Secrets Manager secret. Refuses to overwrite an existing pair (rotating keys
means adding a second public key to the key group first).
"""

from __future__ import annotations

import sys
from pathlib import Path

KEYS = Path(__file__).resolve().parent.parent / "infra" / "stream-keys"


def main(argv: list[str]) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    stage = argv[1] if len(argv) > 1 else "dev"
    private_path, public_path = KEYS / f"{stage}-private.pem", KEYS / f"{stage}-public.pem"
    if private_path.exists():
        print(f"{private_path} exists; not overwriting it", file=sys.stderr)
        return 1
    KEYS.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    private_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    print(f"wrote {private_path} and {public_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
