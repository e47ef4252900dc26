"""Allowances on Redis and in memory: atomic under concurrency, expiring, shared by processes,
counted locally only while Redis is away."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis

from helpdesk.allowances import Allowance, Counts
from helpdesk.errors import RateLimited
from tests.services import SHARED_REDIS, redis_reachable

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def namespace() -> str:
    redis_reachable(SHARED_REDIS)
    return f"test-{uuid.uuid4().hex[:8]}"


def allowance(counts: Counts, count: int = 3, window: int = 60) -> Allowance:
    return Allowance(counts, "try", count, window, "slow down")


async def outcomes(allowance: Allowance, key: str, tries: int) -> list[bool]:
    async def one() -> bool:
        try:
            await allowance.take(key)
        except RateLimited:
            return False
        return True

    return list(await asyncio.gather(*(one() for _ in range(tries))))


async def test_concurrent_takes_on_redis_never_exceed_the_allowance(namespace):
    results = await outcomes(allowance(Counts(SHARED_REDIS, namespace), count=5), "k", 40)
    assert results.count(True) == 5


async def test_processes_share_the_counts_on_redis(namespace):
    first, second = Counts(SHARED_REDIS, namespace), Counts(SHARED_REDIS, namespace)
    await allowance(first, count=2).take("k")
    await allowance(second, count=2).take("k")
    with pytest.raises(RateLimited) as refused:
        await allowance(first, count=2).take("k")
    assert 1 <= refused.value.retry_after <= 60


async def test_every_key_on_redis_expires_with_its_window(namespace):
    counts = Counts(SHARED_REDIS, namespace)
    await allowance(counts, window=30).take("k")
    client = aioredis.from_url(SHARED_REDIS)
    try:
        keys = [key async for key in client.scan_iter(f"{namespace}:*")]
        assert keys
        for key in keys:
            assert 0 < await client.ttl(key) <= 30
    finally:
        await client.aclose()


async def test_nothing_is_counted_locally_while_redis_answers(namespace):
    counts = Counts(SHARED_REDIS, namespace)
    await allowance(counts).take("k")
    assert not counts.local.storage.storage  # MemoryStorage's counters: none written


async def test_a_redis_outage_counts_locally_instead_of_failing(namespace):
    limited = allowance(Counts(UNREACHABLE_REDIS, namespace), count=2)
    await limited.take("k")
    await limited.take("k")
    with pytest.raises(RateLimited):
        await limited.take("k")


async def test_a_refused_take_uses_none_of_its_keys():
    limited = allowance(Counts("memory://", "test"), count=1)
    await limited.take("account")
    with pytest.raises(RateLimited):
        await limited.take("address", "account")
    await limited.take("address")  # the refused take gave its use of "address" back


async def test_given_back_uses_do_not_count():
    limited = allowance(Counts("memory://", "test"), count=2)
    for _ in range(5):
        await limited.give_back(await limited.take("k"))
    await limited.take("k")
    await limited.take("k")
    with pytest.raises(RateLimited):
        await limited.take("k")
