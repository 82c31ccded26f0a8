"""RFC 6962 / RFC 9162 Merkle tree hashing, reference proofs and proof verification.

Indexes are 0-based. The proof *builders* here work in memory over a list of leaf hashes and
are the reference that the storage-backed log is tested against; the *verifiers* are what an
auditor runs, and they follow the public transparency-dev test vectors on every edge case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from triage.ledger import hashing
from triage.ledger.errors import VerificationError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

# A function giving MTH(D[lo:hi]) for 0 <= lo < hi, however it is computed.
RangeHash = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """Hash of a leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def leaf_hashes(entries: Iterable[bytes]) -> list[bytes]:
    """``leaf_hash`` of each entry, in order (the bulk form appends and verification use)."""
    return hashing.leaf_hashes(entries)


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the whole list; the empty tree's root is SHA-256 of nothing."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return _memory_range_hash(leaf_hashes)(0, len(leaf_hashes))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Audit path for leaf ``index`` in the tree of all ``leaf_hashes``."""
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of size {size}")
    return inclusion_path(index, 0, size, _memory_range_hash(leaf_hashes))


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int) -> list[bytes]:
    """Consistency proof from the first ``size1`` leaves to all of ``leaf_hashes``."""
    size2 = len(leaf_hashes)
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    return consistency_path(size1, size2, _memory_range_hash(leaf_hashes))


def inclusion_path(index: int, lo: int, hi: int, mth: RangeHash) -> list[bytes]:
    """PATH(index, D[lo:hi]) of RFC 6962 section 2.1.1, with subtree hashes from ``mth``."""
    proof: list[bytes] = []
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            proof.append(mth(lo + k, hi))
            hi = lo + k
        else:
            proof.append(mth(lo, lo + k))
            lo = lo + k
    proof.reverse()
    return proof


def consistency_path(size1: int, size2: int, mth: RangeHash) -> list[bytes]:
    """PROOF(size1, D[0:size2]) of RFC 6962 section 2.1.2, with subtree hashes from ``mth``."""
    proof: list[bytes] = []
    lo, hi, m, complete = 0, size2, size1, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            proof.append(mth(lo + k, hi))
            hi = lo + k
        else:
            proof.append(mth(lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        proof.append(mth(lo, hi))
    proof.reverse()
    return proof


def _memory_range_hash(leaf_hashes: Sequence[bytes]) -> RangeHash:
    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaf_hashes[lo]
        k = split_point(hi - lo)
        return node_hash(mth(lo, lo + k), mth(lo + k, hi))

    return mth


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``."""
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    _check_match(computed, root, f"inclusion proof for index {index} in tree size {size}")


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that ``proof`` implies for ``leaf_hash`` at ``index`` in a tree of ``size``."""
    if index < 0 or size < 0:
        raise VerificationError(f"negative index {index} or size {size}")
    if index >= size:
        raise VerificationError(f"index {index} is beyond a tree of size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise VerificationError(f"leaf hash is {len(leaf_hash)} bytes, not {HASH_SIZE}")
    _check_proof_hashes(proof)
    inner, border = _decompose_inclusion(index, size)
    if len(proof) != inner + border:
        raise VerificationError(
            f"inclusion proof has {len(proof)} hashes, a tree of size {size} needs "
            f"{inner + border} for index {index}"
        )
    seed = _chain_inner(leaf_hash, proof[:inner], index)
    return _chain_border_right(seed, proof[inner:])


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size1`` with ``root1`` is a prefix of ``size2`` with ``root2``."""
    if size1 < 0 or size2 < 0:
        raise VerificationError(f"negative size {size1} or {size2}")
    if size2 < size1:
        raise VerificationError(f"size2 ({size2}) is smaller than size1 ({size1})")
    if size1 == 0:
        raise VerificationError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise VerificationError(f"sizes are equal ({size1}) but the proof is not empty")
        _check_match(root1, root2, f"roots of equal size {size1}")
        return
    if not proof:
        raise VerificationError(f"empty consistency proof from size {size1} to {size2}")
    _check_proof_hashes(proof)

    inner, border = _decompose_inclusion(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1
    inner -= shift
    if size1 == 1 << shift:
        seed, rest = root1, list(proof)
    else:
        seed, rest = proof[0], list(proof[1:])
    if len(rest) != inner + border:
        raise VerificationError(
            f"consistency proof from {size1} to {size2} has {len(proof)} hashes, "
            f"expected {len(proof) - len(rest) + inner + border}"
        )
    mask = (size1 - 1) >> shift
    hash1 = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
    _check_match(hash1, root1, f"consistency proof: root of size {size1}")
    hash2 = _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])
    _check_match(hash2, root2, f"consistency proof: root of size {size2}")


def _decompose_inclusion(index: int, size: int) -> tuple[int, int]:
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        seed = node_hash(seed, h) if (index >> i) & 1 == 0 else node_hash(h, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        if (index >> i) & 1 == 1:
            seed = node_hash(h, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for h in proof:
        seed = node_hash(h, seed)
    return seed


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        if len(h) != HASH_SIZE:
            raise VerificationError(f"proof hash {i} is {len(h)} bytes, not {HASH_SIZE}")


def _check_match(computed: bytes, expected: bytes, what: str) -> None:
    if computed != expected:
        raise VerificationError(
            f"{what}: computed root {computed.hex()} does not match {expected.hex() or '(empty)'}"
        )
