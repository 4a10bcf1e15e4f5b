"""scripts/fresh-check: runs the README's two commands on a fresh clone, and fails loudly."""

import subprocess
from pathlib import Path

from tests.reliability.harness import REPO

SCRIPT = REPO / "scripts" / "fresh-check"

README = """# tiny
```bash
make demo   # first
make test   # second
```
```bash
make ui
```
"""


def toy_repo(root: Path, demo: str, test: str) -> Path:
    """A git repository with the project's README shape and a Makefile doing `demo`, `test`."""
    repo = root / "repo"
    repo.mkdir()
    (repo / "README.md").write_text(README)
    (repo / "Makefile").write_text(f"demo:\n\t{demo}\ntest:\n\t{test}\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(git[:3] + ["init", "--quiet"], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "--quiet", "-m", "toy"], check=True)
    (repo / "Makefile").write_text("demo:\n\tfalse\n")  # uncommitted: a clone must not see it
    return repo


def fresh_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], check=False, capture_output=True, text=True,
                          timeout=120)


def test_dry_run_lists_the_readme_commands_of_head_in_order():
    run = fresh_check("--dry-run")
    assert run.returncode == 0, run.stderr
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert f"at {head}" in run.stdout
    lines = run.stdout.splitlines()[1:]
    assert [line.rsplit("bash -c ", 1)[1] for line in lines] == ["'make demo')", "'make test')"]
    assert all("env -i " in line for line in lines)


def test_runs_both_commands_on_a_clean_clone_of_head_in_a_new_environment(tmp_path):
    repo = toy_repo(tmp_path, demo="test ! -e .venv && test -z \"$$OVERDUE_HOME\" && touch ran",
                    test="test -e ran")
    run = subprocess.run([str(SCRIPT), "--repo", str(repo)], check=False, capture_output=True,
                         text=True,
                         timeout=120, env={"PATH": "/usr/bin:/bin", "OVERDUE_HOME": "/nowhere"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "'make demo' passed" in run.stdout and "'make test' passed" in run.stdout


def test_fails_loudly_naming_the_command_that_failed(tmp_path):
    repo = toy_repo(tmp_path, demo="true", test="echo 'three tests failed' && false")
    run = fresh_check("--repo", str(repo))
    assert run.returncode == 1
    assert "fresh-check: FAILED: 'make test' failed" in run.stderr
    assert "three tests failed" in run.stderr
