"""Every route that changes a session needs its token, checked before the body is read."""
import pytest

from api_helpers import create, state_of

CHANGES = [
    ("post", "/forward", None), ("post", "/loss", None), ("post", "/backward", None), ("post", "/update", None),
    ("post", "/train", {"iterations": 3}), ("post", "/rewind", {"iterations": 0}),
    ("put", "/network", {"W": [[[0, 0, 0], [0, 0, 0]], [[0], [0], [0]]], "b": [[0, 0, 0], [0]]}),
    ("post", "/forward", {"layers": 1}), ("put", "/breakpoints", {"loss_below": 0.1}),
    ("patch", "/network", {"edits": [{"layer": 0, "i": 0, "j": 0, "value": 1.0}]}),
    ("patch", "/config", {"optimizer": {"learning_rate": 0.5}}), ("post", "/reset", None),
    ("delete", "", None),
]


def call(client, method, url, body=None, headers=None, content=None):
    kwargs = {"headers": headers or {}}
    if content is not None:
        kwargs["content"] = content
        kwargs["headers"] = {**kwargs["headers"], "Content-Type": "application/json"}
    elif body is not None:
        kwargs["json"] = body
    return client.request(method.upper(), url, **kwargs)


@pytest.mark.parametrize("method, path, body", CHANGES)
def test_no_token_is_a_401_and_a_wrong_one_a_403_and_nothing_changes(client, xor, method, path, body):
    client.post(xor.url("/train"), headers=xor.auth, json={"iterations": 2})
    before = state_of(client, xor)
    missing = call(client, method, xor.url(path), body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert call(client, method, xor.url(path), body, {"Authorization": "Basic abc"}).status_code == 401
    wrong = call(client, method, xor.url(path), body, {"Authorization": "Bearer " + "x" * 43})
    assert wrong.status_code == 403
    other = create(client)   # a real token, of another session
    assert call(client, method, xor.url(path), body, other.auth).status_code == 403
    assert state_of(client, xor) == before
    assert call(client, method, xor.url(path), body, xor.auth).status_code not in (401, 403)


@pytest.mark.parametrize("method, path, body", CHANGES)
def test_the_token_is_checked_before_the_body(client, xor, method, path, body):
    assert call(client, method, xor.url(path), content=b"{not json").status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert call(client, method, xor.url(path), headers=bad, content=b"{not json").status_code == 403


def test_reads_need_no_token(client, xor):
    for path in ("", "/network", "/trace", "/history", "/boundary", "/gradcheck", "/export", "/data",
                 "/breakpoints", "/history/0", "/diagnostics", "/full_gradient", "/trace.csv"):
        assert client.get(xor.url(path)).status_code == 200, path
    assert client.post(xor.url("/predict"), json={"X": [[0, 0]]}).status_code == 200
