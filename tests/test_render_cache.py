"""The render cache in the volatile Redis (store.put_stream): bounded by its bytes, least recently used
dropped first, and no copy of a stream left behind in the server's Lua heap."""

import redis

from appliance import fresh_database
from pixie import store


def test_the_cache_keeps_to_its_bytes_dropping_the_least_recently_used(redis_server):
    v = redis.Redis.from_url(fresh_database(redis_server))
    a, b, c, big = (store.stream_key(name) for name in ("a", "b", "c", "big"))
    store.put_stream(v, a, b"A" * 400, 1000)
    store.put_stream(v, b, b"B" * 400, 1000)
    assert store.touch_stream(v, a)  # a used after b: b is now the least recently used
    store.put_stream(v, c, b"C" * 400, 1000)  # 1,200 bytes > 1,000: one must go

    assert store.get_stream(v, b) is None
    assert store.get_stream(v, a) == b"A" * 400
    assert store.get_stream(v, c) == b"C" * 400
    assert v.hgetall(store.STREAM_BYTES) == {a.encode(): b"400", c.encode(): b"400"}

    store.put_stream(v, big, b"Z" * 1500, 1000)  # larger than the cache alone: kept, all others dropped
    assert [store.get_stream(v, key) for key in (a, c)] == [None, None]
    assert store.get_stream(v, big) == b"Z" * 1500
    assert v.zrange(store.STREAM_INDEX, 0, -1) == [big.encode()]
    assert v.hgetall(store.STREAM_BYTES) == {big.encode(): b"1500"}


def test_a_stream_stored_leaves_no_copy_in_the_lua_heap(redis_server):
    # A stream handed to a script as an argument stayed in Lua's heap: 4 MB here, ~15 MB of the
    # volatile Redis's RSS after 100 jobs (issue 35).
    v = redis.Redis.from_url(fresh_database(redis_server))
    before = v.info("memory")["used_memory_lua"]
    store.put_stream(v, store.stream_key("scroll"), bytes(4 << 20), 8 << 20)
    assert v.info("memory")["used_memory_lua"] - before < 256 * 1024
    assert v.strlen(store.stream_key("scroll")) == 4 << 20
