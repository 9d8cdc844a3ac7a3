"""`governance --help` and the commands' help must not import SQLAlchemy, Alembic or MLflow (start-up time)."""

from __future__ import annotations

import subprocess
import sys


def test_help_does_not_import_the_database_libraries() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from governance.cli.main import cli\n"
        "for args in (['--help'], ['register', '--help'], ['register', 'approve', '--help'], ['status', '--help'],\n"
        "             ['audit', '--help'], ['explain', '--help'], ['register', 'import-mlflow', '--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0, args\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'psycopg', 'mlflow')))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"
