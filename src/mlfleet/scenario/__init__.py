"""The scenario: what a user plans — workload, cluster, training, serving, storage, prices.

A scenario is a YAML file (see ``docs/scenario.md`` and the bundled ``examples/``)::

    name: llama3-70b-pretraining
    workload: Llama-3-70B              # a catalog workload
    cluster: {name: H100-16k-fat-tree, gpus: 8192}
    training: {global_batch_tokens: 16Mi, seq_len: 8192, precision: bf16, total_tokens: 15T}
    prices: {electricity_usd_per_kwh: $0.10/kWh, pue: 1.2}

Every quantity is written with a unit (``"10ms"``, ``"15TB"``, ``"$2.50/h"``) or as a plain
number in the unit its key names (``dataset_bytes: 1.5e13``); the loaded model holds SI floats
under the same unit-suffixed names (``serving.slo.p99_s``, ``storage.dataset_bytes``).
Catalog names are checked and stored in canonical form (``H100`` becomes ``H100-SXM``).

Loading validates everything and raises :class:`~mlfleet.errors.ScenarioError` with one line::

    cluster.gpus: -8 is not allowed; must be a positive integer

(prefixed with ``FILE:LINE:`` when the scenario came from a file). No other exception escapes
:func:`load_scenario`, :func:`loads_scenario` or :func:`parse_scenario`.
"""

from mlfleet.scenario.loading import (
    bundled_scenarios,
    default_scenario_path,
    load_scenario,
    loads_scenario,
    parse_scenario,
    read_stdin,
    scenario_json_schema,
)
from mlfleet.scenario.parsers import SERVING_PRECISIONS, TRAINING_PRECISIONS
from mlfleet.scenario.specs import (
    ClusterSpec,
    ConstraintsSpec,
    ParallelismSpec,
    PricesSpec,
    Scenario,
    SchedulingSpec,
    ServingSpec,
    SloSpec,
    StorageSpec,
    TrainingSpec,
    cluster_defaults,
)

__all__ = [
    "Scenario", "ClusterSpec", "TrainingSpec", "ParallelismSpec", "ServingSpec", "SloSpec",
    "StorageSpec", "SchedulingSpec", "PricesSpec", "ConstraintsSpec", "TRAINING_PRECISIONS", "SERVING_PRECISIONS",
    "load_scenario", "loads_scenario", "parse_scenario", "scenario_json_schema",
    "bundled_scenarios", "default_scenario_path", "read_stdin", "cluster_defaults",
]
