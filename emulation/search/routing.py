"""Custom routing: which shard a routing value (or a document id) lands on, computed as
OpenSearch computes it, so that a document written with ``routing=X`` is found again
exactly when OpenSearch would find it (same shard), although this engine keeps one index.

OpenSearch hashes the routing string's UTF-16 code units (little-endian bytes) with
Murmur3 x86 32-bit (seed 0), then ``shard = floorMod(hash, routing_shards) / factor``
where ``routing_shards`` defaults to ``shards * 2^k`` (the largest such value <= 1024,
with k >= 1) and ``factor = routing_shards / shards``.
"""

from __future__ import annotations

_C1, _C2, _MASK = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """Murmur3 x86 32-bit, as a signed 32-bit integer (Java's ``int``)."""
    h = seed & _MASK
    n = len(data) // 4 * 4
    for i in range(0, n, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = _rotl((k * _C1) & _MASK, 15) * _C2 & _MASK
        h = (_rotl(h ^ k, 13) * 5 + 0xE6546B64) & _MASK
    tail = data[n:]
    if tail:
        k = int.from_bytes(tail, "little")
        k = _rotl((k * _C1) & _MASK, 15) * _C2 & _MASK
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h - (1 << 32) if h >= 1 << 31 else h


def default_routing_shards(shards: int) -> int:
    log2_shards = (shards - 1).bit_length()  # ceil(log2(shards))
    return shards << max(1, 10 - log2_shards)


def shard_of(routing: str, shards: int, routing_shards: int) -> int:
    if shards <= 1:
        return 0
    units = routing.encode("utf-16-le")
    return (murmur3_32(units) % routing_shards) // (routing_shards // shards)
