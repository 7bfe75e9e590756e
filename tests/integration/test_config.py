"""Configuration from the environment with embedded defaults (issue 2, item 1): ``config.from_environment``
and ``create_app``. No test here touches the repository's own ``instance/`` folder."""

from __future__ import annotations

import stat

import pytest

import config
from config import ConfigError, from_environment, normalise_database_url
from dsr import create_app

ENV_VARS = ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "STORAGE_DIR", "DSR_ENV", "DSR_INSTANCE_PATH",
            "DEMO_SYSTEMS_URL", "DSR_TIMEZONE")


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# -- from_environment ----------------------------------------------------------------------------------------------

def test_embedded_defaults(tmp_path):
    cfg = from_environment(tmp_path, env={})
    assert cfg["DSR_ENV"] == "development"
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'dsr.sqlite3'}"
    assert cfg["STORAGE_DIR"] == str(tmp_path / "storage")
    assert cfg["REDIS_URL"] is None
    assert cfg["SESSION_COOKIE_SECURE"] is False
    assert cfg["MAX_ATTACHMENT_BYTES"] == 10 * 1024 * 1024


def test_the_generated_secret_key_is_persisted_with_mode_0600_and_reused(tmp_path):
    instance = tmp_path / "not" / "yet" / "there"
    first = from_environment(instance, env={})["SECRET_KEY"]
    key_file = instance / "secret_key"
    assert key_file.read_text().strip() == first
    assert len(first) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert from_environment(instance, env={})["SECRET_KEY"] == first
    assert from_environment(tmp_path / "elsewhere", env={})["SECRET_KEY"] != first


def test_an_explicit_secret_key_is_used_and_nothing_is_written(tmp_path):
    cfg = from_environment(tmp_path, env={"SECRET_KEY": "from-the-environment"})
    assert cfg["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("env", [
    {"DSR_ENV": "production"},
    {"DSR_ENV": "Production", "SECRET_KEY": ""},
    {"DSR_ENV": "PRODUCTION", "DATABASE_URL": "postgresql://db/dsr"},
])
def test_production_without_secret_key_refuses_to_start(tmp_path, env):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_environment(tmp_path, env=env)
    assert not (tmp_path / "secret_key").exists()


def test_production_with_secret_key_has_secure_cookies(tmp_path):
    cfg = from_environment(tmp_path, env={"DSR_ENV": "production", "SECRET_KEY": "s3cret",
                                          "SUPPRESSION_SALT": "a-production-salt-0001"})
    assert cfg["DSR_ENV"] == "production"
    assert cfg["SESSION_COOKIE_SECURE"] is True and cfg["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.parametrize(("given", "used"), [
    ("postgres://u:p@db:5432/dsr", "postgresql+psycopg://u:p@db:5432/dsr"),
    ("postgresql://u:p@db:5432/dsr", "postgresql+psycopg://u:p@db:5432/dsr"),
    ("postgresql+psycopg://u@db/dsr", "postgresql+psycopg://u@db/dsr"),
    ("sqlite:////var/lib/dsr/dsr.sqlite3", "sqlite:////var/lib/dsr/dsr.sqlite3"),
])
def test_database_urls_are_normalised_to_psycopg3(tmp_path, given, used):
    assert normalise_database_url(given) == used
    assert from_environment(tmp_path, env={"DATABASE_URL": given, "SECRET_KEY": "k"})[
        "SQLALCHEMY_DATABASE_URI"] == used


def test_environment_overrides(tmp_path):
    cfg = from_environment(tmp_path, env={
        "SECRET_KEY": "k", "REDIS_URL": "redis://cache:6379/2", "STORAGE_DIR": str(tmp_path / "files")})
    assert cfg["REDIS_URL"] == "redis://cache:6379/2"
    assert cfg["STORAGE_DIR"] == str(tmp_path / "files")


def test_empty_variables_count_as_unset(tmp_path):
    cfg = from_environment(tmp_path, env={"SECRET_KEY": "k", "REDIS_URL": "", "DATABASE_URL": "", "STORAGE_DIR": ""})
    assert cfg["REDIS_URL"] is None
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'dsr.sqlite3'}"
    assert cfg["STORAGE_DIR"] == str(tmp_path / "storage")


def test_from_environment_reads_os_environ_by_default(tmp_path, clean_env):
    clean_env.setenv("SECRET_KEY", "from-os-environ")
    clean_env.setenv("REDIS_URL", "redis://r:6379/0")
    cfg = from_environment(tmp_path)
    assert (cfg["SECRET_KEY"], cfg["REDIS_URL"]) == ("from-os-environ", "redis://r:6379/0")


# -- create_app ------------------------------------------------------------------------------------------------------

def test_create_app_with_nothing_set_runs_embedded_under_the_instance_path(tmp_path, clean_env):
    instance = tmp_path / "instance"
    clean_env.setenv("DSR_INSTANCE_PATH", str(instance))
    app = create_app()
    assert app.instance_path == str(instance)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'dsr.sqlite3'}"
    assert app.config["STORAGE_DIR"] == str(instance / "storage")
    assert (instance / "storage").is_dir()
    assert app.config["REDIS_URL"] is None
    key = app.config["SECRET_KEY"]
    assert (instance / "secret_key").read_text().strip() == key
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
    # A restart keeps the key, so sessions survive it.
    assert create_app().config["SECRET_KEY"] == key


def test_create_app_takes_the_environment(tmp_path, clean_env):
    clean_env.setenv("DSR_INSTANCE_PATH", str(tmp_path / "instance"))
    clean_env.setenv("DATABASE_URL", "postgres://dsr:pw@db.internal:5432/dsr")
    clean_env.setenv("SECRET_KEY", "given")
    clean_env.setenv("REDIS_URL", "redis://cache:6379/0")
    clean_env.setenv("STORAGE_DIR", str(tmp_path / "files"))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://dsr:pw@db.internal:5432/dsr"
    assert app.config["SECRET_KEY"] == "given"
    assert app.config["REDIS_URL"] == "redis://cache:6379/0"
    assert (tmp_path / "files").is_dir()
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_create_app_in_production_without_secret_key_refuses_to_start(tmp_path, clean_env):
    clean_env.setenv("DSR_INSTANCE_PATH", str(tmp_path / "instance"))
    clean_env.setenv("DSR_ENV", "production")
    clean_env.setenv("DATABASE_URL", "postgresql://dsr@db/dsr")
    with pytest.raises(ConfigError):
        create_app()
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_test_config_is_applied_on_top_of_the_environment(tmp_path, clean_env):
    clean_env.setenv("DSR_INSTANCE_PATH", str(tmp_path / "instance"))
    clean_env.setenv("SECRET_KEY", "from-env")
    app = create_app({"SECRET_KEY": "from-test", "STORAGE_DIR": str(tmp_path / "s")})
    assert app.config["SECRET_KEY"] == "from-test"
    assert (tmp_path / "s").is_dir()


def test_the_default_instance_path_is_the_repository_instance_folder(tmp_path, clean_env):
    # SECRET_KEY and STORAGE_DIR are set so that nothing is written into the real instance/ folder.
    clean_env.setenv("SECRET_KEY", "k")
    clean_env.setenv("STORAGE_DIR", str(tmp_path / "s"))
    app = create_app()
    assert app.instance_path == str(config.DEFAULT_INSTANCE)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{config.DEFAULT_INSTANCE / 'dsr.sqlite3'}"
