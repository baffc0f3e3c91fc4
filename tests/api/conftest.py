"""Shared fixtures for the API tests: an app on an in-memory store, a client, a session."""
from __future__ import annotations

from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from api_helpers import Created, create
from app.main import create_app
from app.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(db=":memory:")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def xor(client: TestClient) -> Created:
    return create(client)
