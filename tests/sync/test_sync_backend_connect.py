"""How backends turn a dbt profile into driver arguments (no server needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sync.backends import connect
from sync.dbt_project import Profile
from sync.errors import ConfigError
from sync.secrets import Secret


def snowflake_profile(tmp_path: Path, **settings: Any) -> Profile:
    base = {"type": "snowflake", "account": "xy123", "user": "plg", "database": "DB",
            "schema": "S", "warehouse": "WH", "role": "R"}  # fmt: skip
    return Profile("t", "sf", "snowflake", {**base, **settings}, tmp_path)


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import snowflake.connector

    seen: dict[str, Any] = {}

    class _Con:
        def close(self) -> None:
            pass

    def fake_connect(**kwargs: Any) -> _Con:
        seen.update(kwargs)
        return _Con()

    monkeypatch.setattr(snowflake.connector, "connect", fake_connect)
    return seen


def test_snowflake_key_pair_auth_passes_the_key_file_and_passphrase(
    tmp_path: Path, captured: dict[str, Any]
) -> None:
    prof = snowflake_profile(
        tmp_path, private_key_path="/keys/k.p8", private_key_passphrase=Secret("pp-1234")
    )
    connect(prof, "plg_sync")
    assert captured["private_key_file"] == "/keys/k.p8"
    assert captured["private_key_file_pwd"] == "pp-1234"  # revealed only for the driver
    assert "password" not in captured
    assert captured["paramstyle"] == "qmark" and captured["account"] == "xy123"


def test_snowflake_password_and_local_host_port_protocol_pass_through(
    tmp_path: Path, captured: dict[str, Any]
) -> None:
    prof = snowflake_profile(
        tmp_path, password=Secret("pw-5678"), host="localhost", port=8080, protocol="http"
    )
    backend = connect(prof, "plg_sync")
    assert (captured["host"], captured["port"], captured["protocol"]) == ("localhost", 8080, "http")
    assert captured["password"] == "pw-5678"
    # state lives in the profile's database, upper-case like unquoted Snowflake names
    assert backend.sql.table("sync_state") == '"DB"."PLG_SYNC"."SYNC_STATE"'


def test_snowflake_without_credentials_is_a_config_error(
    tmp_path: Path, captured: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError, match="password, private_key_path"):
        connect(snowflake_profile(tmp_path), "plg_sync")


def test_bigquery_service_account_keyfile_builds_a_client_without_network(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    keyfile = tmp_path / "sa.json"
    keyfile.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "p",
                "private_key_id": "1",
                "private_key": pem,
                "client_email": "plg@p.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    prof = Profile(
        "t", "bq", "bigquery",
        {"type": "bigquery", "method": "service-account", "project": "my-proj",
         "dataset": "d", "keyfile": str(keyfile)},
        tmp_path,
    )  # fmt: skip
    backend = connect(prof, "plg_sync")
    assert backend._client.project == "my-proj"  # type: ignore[attr-defined]
    assert backend.sql.table("sync_state") == "`my-proj`.`plg_sync`.`sync_state`"
    backend.close()


def test_unsupported_adapter_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duckdb, snowflake and bigquery"):
        connect(Profile("t", "pg", "postgres", {"type": "postgres"}, tmp_path), "plg_sync")


def test_identifiers_from_config_are_validated_before_quoting(tmp_path: Path) -> None:
    from sync.backends.duckdb import DuckDBBackend

    with pytest.raises(ConfigError, match="not an allowed identifier"):
        DuckDBBackend.dialect.relation("db", 'main"; drop table x; --', "t")


def test_a_backend_registers_by_adapter_type_like_a_destination(tmp_path: Path) -> None:
    from sync.backends import backend_types, register_backend
    from sync.backends.duckdb import DuckDBBackend

    @register_backend
    class MotherDuckLike(DuckDBBackend):
        type_name = "duckdb_registered_in_test"

    assert backend_types()[:3] == ["duckdb", "snowflake", "bigquery"]
    assert "duckdb_registered_in_test" in backend_types()
    profile = Profile("t", "x", "duckdb_registered_in_test", {"path": ":memory:"}, tmp_path)
    backend = connect(profile, "plg_sync")
    assert isinstance(backend, MotherDuckLike)
    backend.close()
