"""Run the notebooks of the runs file with papermill and build the offline HTML reports (``spamits report``),
or run one notebook with checked parameters (``spamits run``).

One module per job (imports point down this list; none imports the package ``__init__``):

- :mod:`~spamits.report.records`: :class:`Run`, :class:`RunOutcome`, the files of a report folder, reading one back
- :mod:`~spamits.report.parameters`: a notebook's ``parameters`` cell and checking names against it
- :mod:`~spamits.report.generate`: the runs made from the derived spam-trap counts (:func:`untroubled_runs`)
- :mod:`~spamits.report.runs`: the runs file (:func:`load_runs`)
- :mod:`~spamits.report.cache`: content hashes that let a build skip unchanged runs
- :mod:`~spamits.report.folders`: atomic publish, the build lock, tidying after an interrupted build
- :mod:`~spamits.report.assets`: the one plotly.js of a ``reports/`` folder (``_static/``) and how pages load it
- :mod:`~spamits.report.notebook`: reproducible notebook bytes, static figure images, HTML pages
- :mod:`~spamits.report.pdf`: the reviewer page printed to ``<name>.pdf`` by headless Chromium
- :mod:`~spamits.report.execute`: one run (:func:`execute_run`: papermill, then the pages, then publish)
- :mod:`~spamits.report.executors`: local process pool or Dask cluster; Ctrl-C ends every process started
- :mod:`~spamits.report.index`: ``reports/index.html`` (:func:`build_index`)
- :mod:`~spamits.report.build`: a whole build (:func:`run_all`)
- :mod:`~spamits.report.single`: one notebook, parameters checked by name (:func:`run_notebook`)

The only spamits package that imports papermill, nbconvert or kaleido (each where it is needed).
"""

from __future__ import annotations

from spamits.paths import PROJECT_ROOT, data_dir
from spamits.report.build import run_all
from spamits.report.cache import run_cache_inputs, stored_cache_key
from spamits.report.execute import execute_run
from spamits.report.executors import default_jobs
from spamits.report.generate import (
    GENERATE_KEY,
    TRAP_AUDIT_NOTEBOOK,
    TRAP_AUDIT_RUN,
    UNTROUBLED_DAILY,
    UNTROUBLED_HOURLY,
    untroubled_runs,
)
from spamits.report.index import build_index
from spamits.report.notebook import external_resources, notebook_to_html
from spamits.report.parameters import RUNNER_PARAMETERS
from spamits.report.records import (
    CELL_TIMEOUT,
    CROSS_TAKEDOWN_RUN,
    DEFAULT_NOTEBOOK,
    DEFAULT_OUT_DIR,
    DEFAULT_RUNS_FILE,
    FULL_SUFFIX,
    KERNEL_ARGUMENTS,
    KERNEL_NAME,
    METADATA_FILE,
    RENDERER_ENV,
    REPORT_RENDERER,
    RESULTS_FILE,
    STATIC_IMAGES_ENV,
    Run,
    RunOutcome,
    outcome_from_disk,
    report_files,
    required_path,
)
from spamits.report.runs import RUN_KEYS, load_runs
from spamits.report.single import run_notebook

__all__ = [
    "CROSS_TAKEDOWN_RUN", "Run", "RunOutcome", "build_index", "default_jobs", "execute_run", "external_resources",
    "load_runs", "notebook_to_html", "outcome_from_disk", "required_path", "run_all", "run_notebook", "untroubled_runs",
]

# Names kept importable from ``spamits.report`` as before it became a package (not part of ``__all__``).
_COMPAT = (
    CELL_TIMEOUT, DEFAULT_NOTEBOOK, DEFAULT_OUT_DIR, DEFAULT_RUNS_FILE, FULL_SUFFIX, GENERATE_KEY, KERNEL_ARGUMENTS,
    KERNEL_NAME, METADATA_FILE, PROJECT_ROOT, RENDERER_ENV, REPORT_RENDERER, RESULTS_FILE, RUN_KEYS,
    RUNNER_PARAMETERS, STATIC_IMAGES_ENV, TRAP_AUDIT_NOTEBOOK, TRAP_AUDIT_RUN, UNTROUBLED_DAILY, UNTROUBLED_HOURLY,
    data_dir, report_files, run_cache_inputs, stored_cache_key,
)
