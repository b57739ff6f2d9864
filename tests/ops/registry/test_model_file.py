"""Model files: the bundled twelve models, and the refusals of malformed ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.model_file import EXAMPLES, load_cards


def test_the_bundled_file_holds_twelve_models_with_schemas_and_resources() -> None:
    cards = {c.name: c for c in load_cards(EXAMPLES / "recsys-models.yaml")}
    assert len(cards) == 12
    dnn = cards["ranker-dnn"]
    assert dnn.metrics == {"ndcg": 0.34} and dnn.resources.gpus == 8 and dnn.team == "ranking"
    assert [c.name for c in dnn.outputs] == ["pool_top", "score"]


@pytest.mark.parametrize(("text", "fragment"), [
    ("[]", "must be a mapping with a 'models' list"),
    ("models: [3]", "must be a mapping with at least a name"),
    ("models: [{name: m, color: red}]", "unknown key 'color'"),
    ("models: [{name: m, metrics: [1]}]", "metrics(=[1]) must be a mapping"),
    ("models: [{name: m, metrics: {auc: high}}]", "metric(='auc=high')"),
    ("models: [{name: m, resources: {gpu: 1}}]", "may only have replicas"),
    ("models: [{name: m, resources: {replicas: 0}}]", "replicas(=0)"),
    ("models: [{name: 'a b'}]", "name(='a b')"),
    ("models: [", "not valid YAML"),
])
def test_malformed_model_files_are_one_input_error(tmp_path: Path, text: str,
                                                   fragment: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(RegistryInputError) as info:
        load_cards(path)
    assert fragment in str(info.value)
