"""RFC 6962 hashing and proofs against the public transparency-dev vectors and the RFC's tree."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest

from triage.ledger import VerificationError, rfc6962

VECTORS = Path(__file__).parent / "testdata" / "merkle"


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(raw: list[str] | None) -> list[bytes]:
    return [_b64(h) for h in raw or []]


def _load(kind: str) -> list[tuple[str, dict[str, Any]]]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert len(files) > 50, f"expected the full {kind} vector set, found {len(files)} files"
    return [(str(f.relative_to(VECTORS)), json.loads(f.read_text())) for f in files]


@pytest.mark.parametrize(("name", "vector"), _load("inclusion"), ids=lambda v: str(v)[:60])
def test_inclusion_vectors(name: str, vector: dict[str, Any]) -> None:
    args = (
        _b64(vector["leafHash"]),
        vector["leafIdx"],
        vector["treeSize"],
        _proof(vector["proof"]),
        _b64(vector["root"]),
    )
    if vector["wantErr"]:
        with pytest.raises(VerificationError):
            rfc6962.verify_inclusion(*args)
    else:
        rfc6962.verify_inclusion(*args)


@pytest.mark.parametrize(("name", "vector"), _load("consistency"), ids=lambda v: str(v)[:60])
def test_consistency_vectors(name: str, vector: dict[str, Any]) -> None:
    args = (
        vector["size1"],
        vector["size2"],
        _proof(vector["proof"]),
        _b64(vector["root1"]),
        _b64(vector["root2"]),
    )
    if vector["wantErr"]:
        with pytest.raises(VerificationError):
            rfc6962.verify_consistency(*args)
    else:
        rfc6962.verify_consistency(*args)


# The eight-leaf tree of RFC 6962's test data, whose roots transparency-dev also publishes.
RFC_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
RFC_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert rfc6962.root_hash([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_rfc_tree(size: int) -> None:
    leaves = [rfc6962.leaf_hash(d) for d in RFC_LEAVES[:size]]
    assert rfc6962.root_hash(leaves).hex() == RFC_ROOTS[size - 1]


def _random_leaves(rng: random.Random, n: int) -> list[bytes]:
    return [rfc6962.leaf_hash(rng.randbytes(rng.randint(0, 40))) for _ in range(n)]


def test_reference_proofs_verify_for_every_index_and_size() -> None:
    rng = random.Random(6962)
    leaves = _random_leaves(rng, 70)
    for size in range(1, len(leaves) + 1):
        tree = leaves[:size]
        root = rfc6962.root_hash(tree)
        for index in range(size):
            rfc6962.verify_inclusion(
                tree[index], index, size, rfc6962.inclusion_proof(tree, index), root
            )
        for size1 in range(1, size + 1):
            proof = rfc6962.consistency_proof(tree, size1)
            rfc6962.verify_consistency(size1, size, proof, rfc6962.root_hash(leaves[:size1]), root)


def test_proof_for_another_leaf_is_refused() -> None:
    leaves = _random_leaves(random.Random(1), 13)
    root = rfc6962.root_hash(leaves)
    proof = rfc6962.inclusion_proof(leaves, 5)
    with pytest.raises(VerificationError, match="does not match"):
        rfc6962.verify_inclusion(leaves[6], 5, 13, proof, root)


def test_builders_refuse_impossible_requests() -> None:
    leaves = _random_leaves(random.Random(2), 4)
    with pytest.raises(ValueError, match="outside"):
        rfc6962.inclusion_proof(leaves, 4)
    with pytest.raises(ValueError, match="no consistency proof"):
        rfc6962.consistency_proof(leaves, 0)
