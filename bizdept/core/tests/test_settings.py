"""Settings come from the environment; production variables pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_manage(*args, env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SECRET_KEY", "DEBUG", "HTTPS", "BIZDEPT_TESTING")}
    env.update(env_extra, BIZDEPT_DATA_DIR=str(tmp_path), BIZDEPT_TESTING="0")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_production_settings_pass_check_deploy(tmp_path):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path,
                        env_extra={
                            "SECRET_KEY": "x" * 20 + "-production-secret-key-0123456789abcdefghij",
                            "DEBUG": "0", "HTTPS": "1", "ALLOWED_HOSTS": "bizdept.example.com",
                            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                        })
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_generated_once_and_kept(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_manage("shell", "-c", code, tmp_path=tmp_path, env_extra={})
    second = run_manage("shell", "-c", code, tmp_path=tmp_path, env_extra={})
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in connection.settings_dict["OPTIONS"]["init_command"]


def test_defaults_are_chinese_and_shanghai():
    from django.conf import settings

    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]
