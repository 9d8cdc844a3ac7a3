"""Review 2: credentials in MLflow URIs must not reach a message, a file or the register.

A tracking URI carries a user and password (``https://user:pass@host``) or a token in its query
(``?access_token=...``); a Databricks-style ``models://profile:token@databricks/NAME/1`` carries one in the model
URI itself. Each is redacted wherever the toolkit repeats it: refusals, the register's record of the source.
"""

from __future__ import annotations

import os

import pytest

from governance.errors import GovernanceError, InputError
from governance.intake import mlflow_models

SECRET = "s3cretT0ken"


@pytest.mark.parametrize(
    "uri",
    [
        f"https://user:{SECRET}@mlflow.example.com/",
        f"https://user:p@{SECRET}@mlflow.example.com/",  # an unencoded @ in the password
        f"https://mlflow.example.com/?access_token={SECRET}",
        f"https://mlflow.example.com/path?x=1&api_key={SECRET}&y=2",
        f"postgresql://ana:{SECRET}@db/mlflow",
        f"databricks://profile:{SECRET}@databricks",
    ],
)
def test_redact_leaves_no_secret(uri: str) -> None:
    shown = mlflow_models.redact(uri)
    assert SECRET not in shown
    assert "mlflow.example.com" in shown or "db/mlflow" in shown or "databricks" in shown


@pytest.mark.parametrize(
    "reference",
    [f"models://profile:{SECRET}@databricks/credit/1", f"models:/credit/1?token={SECRET}"],
)
def test_a_model_uri_with_credentials_is_refused_without_repeating_them(reference: str) -> None:
    with pytest.raises(InputError) as refused:
        mlflow_models.parse_models_uri(reference)
    assert SECRET not in str(refused.value)
    assert "is not an MLflow model URI" in str(refused.value)


def test_an_unreachable_server_with_a_token_in_its_uri_is_named_without_it() -> None:
    if not os.environ.get("GOVERNANCE_TEST_REQUIRE_SERVICES"):
        pytest.importorskip("mlflow")
    with pytest.raises(GovernanceError) as refused:
        mlflow_models.resolve("models:/credit/1", uri=f"http://127.0.0.1:1/?access_token={SECRET}")
    assert SECRET not in str(refused.value)
    assert "could not be reached" in str(refused.value)


def test_the_recorded_origin_has_no_credentials() -> None:
    version = mlflow_models.MlflowVersion(
        name="credit",
        version="1",
        uri="models:/credit/1",
        requested="models:/credit/1",
        run_id="r",
        source=f"https://user:{SECRET}@store.example.com/artifacts/model?sig={SECRET}",
        description=None,
    )
    origin = version.origin(f"https://user:{SECRET}@mlflow.example.com")
    assert SECRET not in repr(origin)
