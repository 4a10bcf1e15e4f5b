"""Loading the code location imports none of the packages only some steps need.

A night that neither validates a feed with great-expectations nor prints a PDF must not pay for
importing them (issue 20: startup). Checked in a fresh interpreter, the way `overdue run` and the
UI's code server load the location.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

LAZY = ("great_expectations", "weasyprint", "xgboost", "matplotlib", "scipy", "pandas",
        "openpyxl", "jinja2", "sklearn", "fpdf")

PROBE = """
import json, sys
from pipelines.cli import nightly_job
from pipelines.definitions import defs
job = nightly_job()
repository = defs().get_repository_def()
print(json.dumps({"loaded": sorted(m for m in LAZY if m in sys.modules),
                  "assets": sorted(str(n.key.to_user_string())
                                   for n in job.asset_layer.asset_graph.asset_nodes),
                  "jobs": sorted(j.name for j in repository.get_all_jobs())}))
"""


def _probe(home, code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ,
                                           "OVERDUE_HOME": str(home),
                                           "DAGSTER_HOME": str(home / "dagster_home")})
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_loading_the_location_imports_no_heavy_package(home):
    seen = _probe(home, PROBE.replace("LAZY", repr(LAZY)))
    assert seen["loaded"] == []
    assert "nightly" in seen["jobs"]
    # the whole graph was loaded, not an empty location
    snapshot = json.loads((Path(__file__).parent / "snapshots" / "asset_graph.json").read_text())
    assert seen["assets"] == sorted(snapshot["job"]["assets"])


def test_the_probe_sees_a_heavy_import(home):
    """The check can fail: a module that does import one of them is seen."""
    code = PROBE.replace("LAZY", repr(LAZY)).replace("job = nightly_job()",
                                           "import pipelines.lib.collections.experiment_stats\n"
                                           "job = nightly_job()")
    assert "scipy" in _probe(home, code)["loaded"]
