"""A follower's outbox: bounded, newer frames replace older ones, overflow asks for a snapshot."""
from anyio.from_thread import start_blocking_portal

from app.events import CLOSE, MAX_PENDING, RESYNC, Follower


def run(coroutine_function):
    """On an event loop of its own thread, so no other test's loop is in the way."""
    with start_blocking_portal() as portal:
        return portal.call(coroutine_function)


def drain(follower: Follower) -> list:
    async def take() -> list:
        items = []
        while follower.pending():
            items.append(await follower.next())
        return items
    return run(take)


def test_a_newer_frame_replaces_one_still_waiting():
    follower = Follower()
    follower.put("state 1")
    follower.put("frame 1", is_frame=True)
    follower.put("frame 2", is_frame=True)
    follower.put("state 2")
    follower.put("frame 3", is_frame=True)
    assert drain(follower) == ["state 1", "frame 2", "state 2", "frame 3"]


def test_an_overflowing_outbox_is_emptied_for_a_fresh_snapshot():
    follower = Follower()
    for i in range(MAX_PENDING + 5):
        follower.put(f"event {i}")
        assert follower.pending() <= MAX_PENDING

    async def take():
        return await follower.next()
    assert run(take) is RESYNC
    follower.put("after")
    assert drain(follower) == ["after"]


def test_the_last_message_of_a_deleted_session_then_close():
    follower = Follower()
    follower.put("frame", is_frame=True)
    follower.put_last("gone")
    follower.put("ignored")

    async def take():
        return [await follower.next() for _ in range(3)]
    assert run(take) == ["frame", "gone", CLOSE]
