"""The catalog package: one write path for single adds, bulk adds and load; one name query;
the prepared model a bulk-import worker sends."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest
from reliability_support import LLAMA_31_8B_PARAMS, dump_catalog, llama_record

from genz_catalog import store
from genz_catalog.admin import iter_export_lines, load_catalog
from genz_catalog.catalog import writes
from genz_catalog.catalog.ids import name_owners
from genz_catalog.catalog.prepared import PreparedModel, prepare_for_bulk
from genz_catalog.convert import ConversionError
from genz_catalog.errors import InvalidInputError
from genz_catalog.manager import ModelManager, read_config_file

PACKAGE = Path(__file__).resolve().parent.parent / "genz_catalog"
LLAMA_CONFIG = Path(__file__).parent / "data" / "hf-configs" / "meta-llama__Llama-3.1-8B"


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[str, bool]]]:
    """Every call of the write path: the (model id, exported) pairs of its batch."""
    calls: list[list[tuple[str, bool]]] = []
    original = writes.write_models

    def recording(db, batch, *args, **kwargs):  # noqa: ANN001, ANN202
        calls.append([(prepared.model_id, prepared.exported) for prepared, _ in batch])
        return original(db, batch, *args, **kwargs)

    monkeypatch.setattr(writes, "write_models", recording)
    return calls


def test_single_add_bulk_add_and_load_all_write_through_write_models(
    recorded: list, isolated_catalog: Path, tmp_path: Path
):
    with ModelManager(isolated_catalog) as manager:
        result = manager.add_model("meta-llama/Llama-3.1-8B", record=llama_record())
        assert (result.status, result.version) == ("imported", 1)
        assert recorded == [[("meta-llama/Llama-3.1-8B", False)]]
        written = list(
            manager.add_models(
                [
                    {"model_id": "org/deep", "record": llama_record(num_layers=48)},
                    {"model_id": "org/deeper", "record": llama_record(num_layers=64)},
                ]
            )
        )
        assert [w.status for w in written] == ["imported", "imported"]
        assert recorded[1] == [("org/deep", False), ("org/deeper", False)]
        manager.update_model("org/deep", record=llama_record(num_layers=50))
        assert recorded[2] == [("org/deep", False)]
        assert manager.get_model("org/deep")["num_layers"] == 50
        export = list(iter_export_lines(manager.db))
    recorded.clear()
    copy = tmp_path / "copy.db"
    with ModelManager(copy) as target:
        load_catalog(target.db, iter(export))
        assert target.get_model("llama-3.1-8b")["parameter_count"] == LLAMA_31_8B_PARAMS
    # One call per exported model row, in the file's (sorted) order.
    assert recorded == [
        [("meta-llama/Llama-3.1-8B", True)],
        [("org/deep", True)],
        [("org/deeper", True)],
    ]
    assert dump_catalog(copy) == dump_catalog(isolated_catalog)


#: SQL that writes a models, model_versions or model_aliases row.
_MODEL_WRITE = re.compile(
    r"(INSERT(\s+OR\s+\w+)?\s+INTO\s+\[?(models|model_versions|model_aliases)\]?[\s(]"
    r"|UPDATE\s+\[?models\]?\s+SET"
    r"|table\(\s*[\"'](models|model_versions|model_aliases)[\"']\s*\)\.(insert|update|upsert))",
    re.IGNORECASE,
)


def test_only_the_write_path_writes_model_rows():
    # db.py holds the migrations (schema changes); store.py moves an older file's documents;
    # catalog/refresh.py fills the figure columns a migration added for the rows already
    # there. admin.load writes every exported row through the write path, children included.
    allowed = {"catalog/writes.py", "db.py", "store.py", "catalog/refresh.py"}
    offenders = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if str(path.relative_to(PACKAGE)) not in allowed and _MODEL_WRITE.search(path.read_text())
    }
    assert offenders == set()
    admin = (PACKAGE / "admin.py").read_text()
    assert not re.search(r"INSERT[^\"]*INTO\s+models\b", admin)


def test_name_owners_answers_for_ids_and_aliases_case_insensitively(isolated_catalog: Path):
    with ModelManager(isolated_catalog) as manager:
        manager.add_model("meta-llama/Llama-3.1-8B", record=llama_record(), aliases=["llama3_8b"])
        owners = name_owners(
            manager.db, ["LLAMA3_8B", "llama-3.1-8b", "Meta-Llama/Llama-3.1-8B", "mistral"]
        )
        # A name that is both a model id and another model's alias (a damaged or hand-made
        # file; doctor reports it): load asks for the alias's owner, add_alias for the model.
        manager.add_model("org/deep", record=llama_record(num_layers=48))
        manager.db.execute(
            "INSERT INTO model_aliases (alias, model_id, kind, created_at) "
            "VALUES ('org/deep', 'meta-llama/Llama-3.1-8B', 'alias', '2026-01-01')"
        )
        shadowed = ["ORG/DEEP"]
        assert name_owners(manager.db, shadowed) == {"org/deep": "meta-llama/Llama-3.1-8B"}
        assert name_owners(manager.db, shadowed, prefer_ids=True) == {"org/deep": "org/deep"}
    assert owners == {
        "llama3_8b": "meta-llama/Llama-3.1-8B",
        "llama-3.1-8b": "meta-llama/Llama-3.1-8B",
        "meta-llama/llama-3.1-8b": "meta-llama/Llama-3.1-8B",
    }


def test_a_worker_prepared_model_pickles_and_writes_what_a_single_add_writes(tmp_path: Path):
    config, model_id = read_config_file(LLAMA_CONFIG)
    assert model_id == "meta-llama/Llama-3.1-8B"
    prepared = prepare_for_bulk(model_id, config, "local")
    assert isinstance(prepared, PreparedModel) and not prepared.name_given
    assert pickle.loads(pickle.dumps(prepared)) == prepared
    assert prepared.content["parameter_count"] == LLAMA_31_8B_PARAMS

    def stored(path: Path) -> tuple[dict, dict]:
        with ModelManager(path) as manager:
            row = manager.get_model(model_id)
            [version] = manager.get_versions(model_id)
        for column in ("created_at", "updated_at"):
            row.pop(column)
        return row, version["snapshot"]

    with ModelManager(tmp_path / "bulk.db") as manager:
        list(manager.add_models([{"model_id": model_id, "prepared": prepared}]))
    with ModelManager(tmp_path / "single.db") as manager:
        manager.add_model(model_id, config, source="local")
    assert stored(tmp_path / "bulk.db") == stored(tmp_path / "single.db")


def test_a_metrics_csv_is_read_by_the_library_with_its_own_errors(tmp_path: Path):
    # What `metrics import` reads, a library user can read too: items with line labels, and
    # the catalog's own error (no click) for a bad file.
    from genz_catalog.catalog.metrics import read_metrics_csv
    from genz_catalog.errors import InvalidInputError

    scores = tmp_path / "scores.csv"
    scores.write_text(
        "model_id,metric_name,metric_value,shots,date\n"
        "meta-llama/Llama-3.1-8B,MMLU,66.7,5,2024-07-23\n\n"
        "mistralai/Mistral-7B-v0.1,GSM8K,0.522,,\n"
    )
    items, labels = read_metrics_csv(str(scores))
    assert [(i["model_id"], i["metric_value"], i["shots"], i["measured_at"]) for i in items] == [
        ("meta-llama/Llama-3.1-8B", "66.7", "5", "2024-07-23"),
        ("mistralai/Mistral-7B-v0.1", "0.522", "", ""),
    ]
    assert labels == [f"{scores} line 2", f"{scores} line 4"]
    scores.write_text("model_id,metric_value\nx,1\n")
    with pytest.raises(InvalidInputError, match=r"scores.csv: missing column metric_name; "):
        read_metrics_csv(str(scores))


def test_create_on_write_makes_the_file_only_for_a_checked_write(tmp_path: Path):
    path = tmp_path / "new" / "models.db"
    config, model_id = read_config_file(LLAMA_CONFIG)
    with ModelManager(path, create_on_write=True) as manager:
        assert manager.list_models() == [] and manager.get_model(model_id) is None
        with pytest.raises(ConversionError):
            manager.add_model("org/broken", {"model_type": "llama"})  # no sizes
        assert not path.parent.exists()  # refused input: no file, no folder
        manager.add_model(model_id, config, source="local")
        assert path.is_file()
        assert manager.require_model(model_id)["parameter_count"] == LLAMA_31_8B_PARAMS
    with ModelManager(path) as manager:
        assert [m["model_id"] for m in manager.list_models()] == [model_id]


@pytest.fixture
def conversions(monkeypatch) -> list[str]:
    """The model ids ``prepare_model`` converts from now on (the real function still runs)."""
    from genz_catalog.catalog import prepared as prepared_module

    seen: list[str] = []
    real = prepared_module.prepare_model
    monkeypatch.setattr(
        prepared_module, "prepare_model", lambda *a, **k: seen.append(a[0]) or real(*a, **k)
    )
    return seen


def test_bulk_preparer_converts_each_distinct_file_once(tmp_path: Path, conversions):
    from genz_catalog.catalog.prepared import BulkPreparer

    text = (LLAMA_CONFIG / "config.json").read_text()
    paths = []
    for name in ("org__base", "a__ft-one", "b__ft-two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(text)
        paths.append(tmp_path / name / "config.json")
    (tmp_path / "c__broken").mkdir()
    (tmp_path / "c__broken" / "config.json").write_text('{"model_type": "llama"}')
    preparer = BulkPreparer()
    results = [preparer.prepare_file(p) for p in paths]
    assert conversions == ["org/base"]  # the fine-tunes reuse the base's conversion
    for (model_id, prepared), expected in zip(
        results, ("org/base", "a/ft-one", "b/ft-two"), strict=True
    ):
        config, _ = read_config_file(tmp_path / expected.replace("/", "__"))
        reference = prepare_for_bulk(expected, config, "local")
        assert model_id == expected and prepared.content == reference.content
        assert json.loads(prepared.content["genz_config_json"])["model"] == expected
        assert prepared.content["parameter_count"] == LLAMA_31_8B_PARAMS
    conversions.clear()
    for _ in range(2):  # a refused file is checked every time, never remembered
        with pytest.raises(ConversionError):
            preparer.prepare_file(tmp_path / "c__broken" / "config.json")
    assert conversions == ["c/broken", "c/broken"]


def test_bulk_preparer_converts_each_architecture_once(tmp_path: Path, conversions):
    # Fine-tunes whose config.json differs from their base's only in what the trainer's
    # environment stamps in reuse the base's conversion, and keep their own config and hash.
    from genz_catalog.catalog.prepared import BulkPreparer

    base = json.loads((LLAMA_CONFIG / "config.json").read_text())
    variants = {
        "org__base": base,
        "a__bf16": {**base, "torch_dtype": "float16"},
        "b__newer": {**base, "transformers_version": "4.51.3", "dtype": "bfloat16"},
        "c__ckpt": {**base, "_name_or_path": "/scratch/ckpt-900"},
        "d__deeper": {**base, "num_hidden_layers": 40},  # another architecture
        "e__nan": {**base, "torch_dtype": "float16", "time_step_limit": [0.0, float("inf")]},
    }
    for name, config in variants.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(config))
    preparer = BulkPreparer()
    results = {name: preparer.prepare_file(tmp_path / name / "config.json") for name in variants}
    # NaN is stored as a string with a warning: that config is converted on its own.
    assert conversions == ["org/base", "d/deeper", "e/nan"]
    hashes = set()
    for name, (model_id, prepared) in results.items():
        assert model_id == name.replace("__", "/")
        reference = prepare_for_bulk(model_id, variants[name], "local")
        assert prepared.content == reference.content
        hashes.add(prepared.content["config_hash"])
    assert len(hashes) == len(variants)
    assert results["d__deeper"][1].content["parameter_count"] > LLAMA_31_8B_PARAMS
    assert (
        results["e__nan"][1].content["warnings_json"]
        != results["a__bf16"][1].content["warnings_json"]
    )


def test_bulk_preparer_stays_right_within_its_bounds(tmp_path: Path, conversions, monkeypatch):
    # The preparer remembers at most FILES files and ARCHITECTURES conversions: a file read
    # again is not parsed while its architecture is remembered, and converted again once it
    # is forgotten; every result equals a fresh conversion of that file.
    from genz_catalog.catalog import prepared as prepared_module
    from genz_catalog.catalog.prepared import BulkPreparer

    parsed: list[str] = []
    real_parse = prepared_module.config_from_bytes
    monkeypatch.setattr(
        prepared_module,
        "config_from_bytes",
        lambda data, name: parsed.append(Path(name).parent.name) or real_parse(data, name),
    )
    base = json.loads((LLAMA_CONFIG / "config.json").read_text())
    texts = {
        "org__base": json.dumps(base, indent=2),
        "a__same": json.dumps(base, indent=2),  # byte for byte the base's
        "b__dtype": json.dumps({**base, "torch_dtype": "float32"}, indent=2),
        "c__deeper": json.dumps({**base, "num_hidden_layers": 40}, indent=2),
        "d__same": json.dumps(base, indent=2),
        "e__nan": json.dumps({**base, "time_step_limit": [0.0, float("inf")]}),
        "f__nan": json.dumps({**base, "time_step_limit": [0.0, float("inf")]}),
    }
    for name, text in texts.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(text)
    preparer = BulkPreparer()
    preparer.FILES, preparer.ARCHITECTURES = 2, 1
    order = ["org__base", "a__same", "b__dtype", "c__deeper", "d__same", "e__nan", "f__nan"]
    results = []
    for name in order:
        results.append(preparer.prepare_file(tmp_path / name / "config.json"))
        assert len(preparer._files) <= 2 and len(preparer._architectures) <= 1
    # a__same is the base's bytes: not parsed. d__same is too, but c__deeper's conversion
    # pushed the base's out: parsed and converted again. NaN configs are never remembered.
    assert parsed == ["org__base", "b__dtype", "c__deeper", "d__same", "e__nan", "f__nan"]
    assert conversions == ["org/base", "c/deeper", "d/same", "e/nan", "f/nan"]
    for name, (model_id, prepared) in zip(order, results, strict=True):
        assert model_id == name.replace("__", "/")
        reference = prepare_for_bulk(model_id, json.loads(texts[name]), "local")
        assert prepared.content == reference.content, name
        assert list(prepared.content) == list(reference.content)  # one column order
        # The documents' keys and stored forms it carries are those the writer would compute.
        if name.endswith("nan"):
            assert prepared.documents is None
        else:
            bodies = store.model_document_bodies(prepared.content)
            assert prepared.documents == tuple(
                (body, store.document_hash(body), store.pack_document(body) if k == 0 else body)
                for k, body in enumerate(bodies)
            ), name
    assert "time_step_limit" in results[-1][1].content["warnings_json"]


def test_a_config_is_encoded_once_for_its_stored_text_and_its_hash():
    # The bulk preparer spaces the hashed (compact) text into the stored one when no key or
    # string holds a "," or ":"; otherwise it encodes again. Either way both equal what
    # prepare_model stores and hashes, for every real config and for texts made to trip it.
    from genz_catalog.catalog import prepared as prepared_module
    from genz_catalog.catalog.ids import config_hash
    from genz_catalog.limits import dumps_strict

    configs = []
    for path in sorted(LLAMA_CONFIG.parent.glob("*/config.json")):
        config = json.loads(path.read_text())
        if "NaN" not in path.read_text() and "Infinity" not in path.read_text():
            configs.append(config)
    base = json.loads((LLAMA_CONFIG / "config.json").read_text())
    made = [
        {**base, "_name_or_path": "https://example.org/a,b:c"},
        {**base, "auto_map": {"AutoConfig": "m.C", "k:ey": [1, 2, {"x": ", :"}]}},
        {**base, "rope_scaling": {}, "layer_types": [], "nested": [[], [{}], {"a": [1, {}]}]},
        {**base, "note": 'quote " back\\slash, tab\t \u00e9 \ud83d\ude00'},
        {**base, "note": "é😀 ,"},
        {"a": 1},
        {},
    ]
    spaced = 0
    for config in configs + made:
        text, hash_ = prepared_module.stored_config_and_hash(config)
        assert text == dumps_strict(config, sort_keys=True)
        assert hash_ == config_hash(config)
        compact = json.dumps(config, sort_keys=True, separators=(",", ":"))
        keys, commas = prepared_module._separator_counts(config)
        spaced += compact.count(":") == keys and compact.count(",") == commas
    # Most real configs take the spaced path; the made ones with "," or ":" in text do not.
    assert len(configs) >= 100 and spaced >= len(configs) * 0.9
    assert spaced < len(configs) + len(made)
    with pytest.raises(InvalidInputError):
        prepared_module.stored_config_and_hash({**base, "x": float("nan")})


def test_no_converted_figure_depends_on_the_trainers_environment():
    # What BulkPreparer relies on, for every real config the converter accepts: a config's
    # dtype, transformers release and checkpoint folder change its stored config, nothing else.
    from genz_catalog.catalog.prepared import ENVIRONMENT_KEYS

    checked = 0
    for path in sorted((LLAMA_CONFIG.parent).glob("*/config.json")):
        config = json.loads(path.read_text())
        try:
            original = prepare_for_bulk("org/model", config, "local").content
        except (ConversionError, ValueError):
            continue
        stamped = {
            **config,
            "_name_or_path": "/scratch/run-7/checkpoint-900",
            "transformers_version": "9.9.9",
            "torch_dtype": "float32" if config.get("torch_dtype") != "float32" else "float16",
            "dtype": "int8",
        }
        assert set(stamped) - set(config) <= ENVIRONMENT_KEYS
        other = prepare_for_bulk("org/model", stamped, "local").content
        differ = {key for key in original if original[key] != other[key]}
        assert differ == {"config_json", "config_hash"}, (path.parent.name, differ)
        checked += 1
    assert checked >= 100


def test_config_bytes_are_read_whole_up_to_the_limit_and_refused_past_it(tmp_path: Path):
    # The reader asks for the size stat gives (plus one byte): a file at the limit is read
    # whole, one byte more is refused with its size, an empty file is empty.
    from genz_catalog.catalog.config_files import MAX_CONFIG_BYTES, read_config_bytes
    from genz_catalog.errors import InvalidInputError

    text = (LLAMA_CONFIG / "config.json").read_bytes()
    body = text.rstrip()[:-1]  # without its closing brace
    at_limit = body + b" " * (MAX_CONFIG_BYTES - len(body) - 1) + b"}"
    (tmp_path / "at-limit.json").write_bytes(at_limit)
    (tmp_path / "over.json").write_bytes(at_limit + b" ")
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "config.json").write_bytes(text)
    assert read_config_bytes(tmp_path / "at-limit.json")[0] == at_limit
    assert read_config_file(tmp_path / "at-limit.json")[0]["num_hidden_layers"] == 32
    with pytest.raises(InvalidInputError, match=f"config is {MAX_CONFIG_BYTES + 1} bytes"):
        read_config_bytes(tmp_path / "over.json")
    assert read_config_bytes(tmp_path / "empty.json")[0] == b""
    assert read_config_bytes(tmp_path / "folder") == (
        text,
        str(tmp_path / "folder" / "config.json"),
    )
