"""config/settings.py and the development file (.env) the Makefile writes: a server without
a SECRET_KEY refuses to start, the file supplies one for local development, and a variable
set in the environment always wins over the file.

Each check starts a fresh Python, because settings are read once per process, with an
environment built from nothing (the suite's own SECRET_KEY, set by pytest-env, must not
leak in) and ORDO_ENV_FILE pointing away from the checkout's own .env.
"""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

PRINT_SETTINGS = (
    "import django; from django.conf import settings; django.setup(); "
    "print(settings.SECRET_KEY); print(settings.MAILERS['default']['BACKEND'])"
)


def run_python(code: str, env_file: Path, **env: str) -> subprocess.CompletedProcess:
    clean_env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ORDO_ENV_FILE": str(env_file),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_make_env(folder: Path) -> subprocess.CompletedProcess:
    """`make .env` with the project's Makefile, in `folder` rather than the checkout."""
    shutil.copy(BASE_DIR / "Makefile", folder / "Makefile")
    return subprocess.run(
        ["make", "--no-print-directory", ".env", f"PYTHON={sys.executable}"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )


# A production start without a key


@pytest.mark.parametrize(
    ("start", "extra_env"),
    [
        ("import config.wsgi", {}),
        ("import config.asgi", {}),
        ("import config.wsgi", {"DEBUG": "1"}),
        (
            "from django.core.management import execute_from_command_line; "
            "execute_from_command_line(['manage.py', 'check'])",
            {},
        ),
    ],
    ids=["wsgi", "asgi", "wsgi-with-debug", "manage-check"],
)
def test_a_start_without_secret_key_or_development_file_stops_with_what_to_set(
    tmp_path, start, extra_env
):
    result = run_python(start, env_file=tmp_path / "no-such.env", **extra_env)

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is not set." in result.stderr
    assert "set the SECRET_KEY environment variable" in result.stderr
    assert "run `make run`" in result.stderr


def test_an_empty_secret_key_counts_as_missing(tmp_path):
    result = run_python("import config.wsgi", env_file=tmp_path / "no-such.env", SECRET_KEY="")

    assert result.returncode != 0
    assert "SECRET_KEY is not set." in result.stderr


def test_a_development_file_without_a_key_says_how_to_mend_it(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("EMAIL_URL=console://\n")

    result = run_python("import config.wsgi", env_file=env_file)

    assert result.returncode != 0
    assert f"{env_file} has no SECRET_KEY line" in result.stderr
    assert "run `make .env`" in result.stderr


def test_a_production_start_with_secret_key_needs_no_development_file(tmp_path):
    result = run_python(
        PRINT_SETTINGS, env_file=tmp_path / "no-such.env", SECRET_KEY="from-the-environment"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "from-the-environment"


# The development file


def test_the_development_file_supplies_the_key_and_console_mail(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=from-the-file\nEMAIL_URL=console://\n")

    result = run_python(PRINT_SETTINGS, env_file=env_file)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "from-the-file",
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_the_environment_wins_over_the_development_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=from-the-file\nEMAIL_URL=console://\n")

    result = run_python(
        PRINT_SETTINGS,
        env_file=env_file,
        SECRET_KEY="from-the-environment",
        EMAIL_URL="smtp://mail.example.com:587?tls=1",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "from-the-environment",
        "django.core.mail.backends.smtp.EmailBackend",
    ]


def test_make_writes_a_private_development_file_with_a_random_key(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()

    for folder in (first, second):
        result = run_make_env(folder)
        assert result.returncode == 0, result.stderr

    lines = {
        folder: dict(
            line.split("=", 1)
            for line in (folder / ".env").read_text().splitlines()
            if line and not line.startswith("#")
        )
        for folder in (first, second)
    }
    assert set(lines[first]) == {"SECRET_KEY", "EMAIL_URL", "WEBHOOK_ALLOW_PRIVATE_URLS"}
    assert lines[first]["EMAIL_URL"] == "console://"
    # Receivers on the developer's own machine (manage.py webhook_receiver).
    assert lines[first]["WEBHOOK_ALLOW_PRIVATE_URLS"] == "1"
    assert len(lines[first]["SECRET_KEY"]) >= 50
    assert lines[first]["SECRET_KEY"] != lines[second]["SECRET_KEY"]
    assert stat.S_IMODE((first / ".env").stat().st_mode) == 0o600


def test_make_never_overwrites_the_development_file(tmp_path):
    (tmp_path / ".env").write_text("SECRET_KEY=kept\nDATABASE_URL=postgres://mine\n")

    result = run_make_env(tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".env").read_text() == "SECRET_KEY=kept\nDATABASE_URL=postgres://mine\n"


def test_git_never_commits_the_development_file():
    ignored = (BASE_DIR / ".gitignore").read_text().splitlines()

    assert ".env" in ignored
