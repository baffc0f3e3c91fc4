"""Every route against its OpenAPI description: random valid and invalid requests, in process.
No answer may be a 5xx or differ from what the schema declares."""
import tempfile
from pathlib import Path

import pytest
import schemathesis
from schemathesis.python import asgi
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.main import create_app
from app.settings import Settings

# A file store: schemathesis restarts the app's lifespan for each route, and the session
# made below must outlive that. Small limits keep each generated request quick.
app = create_app(Settings(db=str(Path(tempfile.mkdtemp()) / "schema.db"), max_train_iterations=50, max_resolution=20, max_rows=200,
                          max_predict_rows=50, max_gradcheck_parameters=200, max_sessions_in_memory=20))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def known():
    """A real session, so generated requests reach the routes past the 404. Made through
    schemathesis' own client, which shares the app's one running lifespan."""
    with asgi.get_client(app) as client:
        yield client.post(f"http://{asgi.HOST}/api/sessions", json={"preset": "xor"}).json()


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_schema(case, known):
    if "session_id" in (case.path_parameters or {}):
        case.path_parameters["session_id"] = known["id"]
        # a generated bearer token becomes the real one (a missing header stays missing),
        # except on DELETE, which would end the session for the cases after it
        given = (case.headers or {}).get("Authorization", "")
        if given.startswith("Bearer ") and case.method != "DELETE":
            case.headers["Authorization"] = f"Bearer {known['token']}"
    # A schema cannot say every rule (softmax goes with cross_entropy, the data's columns
    # match the input layer, ranges follow configurable limits), so a schema-valid body may
    # still be a 422; every other check runs, negative-data rejection included.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
