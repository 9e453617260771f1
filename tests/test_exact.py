"""Issue 11 item 6: exact counts for families without a handler, and the count_basis column.

- ``import --exact`` (the ``exact`` extra: torch + transformers) counts a refused family with
  transformers' own class on the meta device: ``count_basis = 'transformers-meta'``.
- A Hub import of a refused family whose repo publishes a safetensors total stores that total:
  ``count_basis = 'hub-safetensors'`` (real huggingface_hub against the local Hub stand-in).
- Without either, the refusal says how to get an exact count.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hub_server import running_hub

from genz_catalog import ModelManager
from genz_catalog.cli import cli
from genz_catalog.convert import ConversionError, UnhandledFamilyError, convert_hf_config
from genz_catalog.exact import disable_exact_counts, enable_exact_counts
from genz_catalog.hub import import_hub_model

DATA = Path(__file__).parent / "data"
V2_LITE = "deepseek-ai/DeepSeek-V2-Lite"


@pytest.fixture(autouse=True)
def exact_counts_off() -> Iterator[None]:
    """Every test starts and ends with exact counting off (``--exact`` switches it on globally)."""
    disable_exact_counts()
    yield
    disable_exact_counts()


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def transformers_default_config(model_type: str) -> dict[str, Any]:
    """A family's config exactly as transformers writes it (``to_dict()``), JSON round-tripped."""
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("torch")
    return json.loads(json.dumps(transformers.AutoConfig.for_model(model_type).to_dict()))


def refused_family_config() -> dict[str, Any]:
    """The default config of the first causal-LM family (alphabetically) that the converter
    refuses for want of a handler and transformers builds on the meta device. Chosen at run
    time: families gain handlers (TrOCR, this test's first example, now has one)."""
    transformers = pytest.importorskip("transformers")
    from transformers.models.auto import modeling_auto

    transformers.logging.set_verbosity_error()
    for model_type in sorted(modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES):
        try:
            config = transformers_default_config(model_type)
            convert_hf_config(config)
        except UnhandledFamilyError as error:
            if not str(error).startswith(f"{model_type}: no handler"):
                continue
            try:
                meta_device_count(config)
            except Exception:  # transformers cannot build its own default: not a usable example
                continue
            return config
        except Exception:  # handled, refused for another reason, or no default config
            continue
    pytest.skip("every causal-LM family transformers defines has a handler")


def meta_device_count(config: dict[str, Any]) -> int:
    """The oracle, written independently of genz_catalog.exact."""
    import torch
    import transformers

    hf_config = transformers.AutoConfig.for_model(
        config["model_type"],
        **{k: v for k, v in config.items() if k not in ("model_type", "architectures", "dtype")},
    )
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(hf_config)
    return sum(parameter.numel() for parameter in model.parameters())


def custom_family_config() -> dict[str, Any]:
    """DeepSeek-V2-Lite's real config under a model_type no handler knows (no architectures)."""
    config = json.loads(
        (DATA / "hf-configs" / "deepseek-ai__DeepSeek-V2-Lite" / "config.json").read_text()
    )
    config["model_type"] = "acme_mla"
    config.pop("architectures", None)
    config.pop("auto_map", None)
    return config


# --- transformers-meta ------------------------------------------------------------------------


@pytest.mark.oracle
def test_exact_counts_a_refused_family_with_transformers_on_the_meta_device() -> None:
    config = refused_family_config()
    family = config["model_type"]
    with pytest.raises(UnhandledFamilyError, match=rf"^{family}: no handler .*--exact"):
        convert_hf_config(config)
    enable_exact_counts()
    record = convert_hf_config(config, f"acme/{family}")
    assert record["parameter_count"] == meta_device_count(config)
    assert record["count_basis"] == "transformers-meta"
    assert (record["family"], record["hf_model_type"]) == (family, family)
    # What is not known exactly is not shown: no KV cache, no GenZ configuration.
    assert record["kv_values_per_token"] is None and record["genz_kwargs"] == {}
    assert record["genz_unsupported"]
    # Handled families never go through transformers.
    llama = json.loads(
        (DATA / "hf-configs" / "meta-llama__Llama-3.1-8B" / "config.json").read_text()
    )
    assert convert_hf_config(llama)["count_basis"] == "formula"


@pytest.mark.oracle
def test_exact_refuses_a_model_type_transformers_does_not_know_either() -> None:
    enable_exact_counts()
    with pytest.raises(ConversionError, match=r"acme_mla: transformers .* does not know"):
        convert_hf_config(custom_family_config(), "acme/mla")


@pytest.mark.oracle
def test_import_exact_stores_transformers_meta_and_show_list_say_so(tmp_path: Path) -> None:
    config = refused_family_config()
    model_id = f"acme/{config['model_type']}"
    path = tmp_path / model_id.replace("/", "__") / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(config))
    refused = CliRunner().invoke(cli, ["import", str(path)])
    assert refused.exit_code == 1
    assert "pip install 'genz-catalog[exact]'" in refused.output
    assert run("import", "--exact", str(path)).exit_code == 0
    shown = json.loads(run("show", model_id, "--json").output)
    shown = shown[0] if isinstance(shown, list) else shown
    assert shown["count_basis"] == "transformers-meta"
    assert shown["parameter_count"] == meta_device_count(config)
    listed = json.loads(run("list", "--json").output)
    assert [(row["model_id"], row["count_basis"]) for row in listed] == [
        (model_id, "transformers-meta")
    ]
    compared = run("compare", model_id, model_id, "--json")
    assert compared.exit_code == 0, compared.output
    memory = CliRunner().invoke(cli, ["show", model_id, "--memory"])
    assert memory.exit_code == 1
    assert "KV cache of a family without a converter handler is unknown" in memory.output


# --- hub-safetensors --------------------------------------------------------------------------


def test_hub_import_of_a_refused_family_stores_the_safetensors_total(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    info = json.loads((DATA / "hf-api" / "deepseek-ai__DeepSeek-V2-Lite.json").read_text())
    total = info["safetensors"]["total"]
    assert total == 15706484224
    with running_hub() as hub, ModelManager() as manager:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.add_model("acme/mla-lite", custom_family_config(), info=info)
        hub.add_model(
            "acme/mla-fp8",
            dict(custom_family_config(), quantization_config={"quant_method": "fp8"}),
            info=info,
        )
        result = import_hub_model("acme/mla-lite", manager=manager)
        model = manager.get_model("acme/mla-lite")
        assert result.status == "imported"
        assert (model["parameter_count"], model["count_basis"]) == (total, "hub-safetensors")
        assert model["hub_parameter_count"] == total and not model["parameter_mismatch"]
        # A mixture of experts: total known, active share unknown (not guessed).
        assert model["is_moe"] and model["active_parameter_count"] is None
        assert any("safetensors total" in warning for warning in model["warnings"])
        # A quantized checkpoint's stored total is no parameter count: still refused.
        with pytest.raises(ConversionError, match="acme_mla: no handler"):
            import_hub_model("acme/mla-fp8", manager=manager)


def test_datasette_functions_show_no_kv_figure_for_an_unknown_cache_layout() -> None:
    from genz_catalog.datasette import functions

    unknown = json.dumps(
        {"unknown": "the KV cache of a family without a converter handler is unknown"}
    )
    assert functions.kv_cache_bytes_per_token(unknown, 1000, "bf16") is None
    assert functions.memory_report_json(unknown, 1000, 1, 128, "bf16") is None


@pytest.mark.oracle
def test_exact_falls_back_to_the_hub_total_when_transformers_does_not_know_the_family(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("transformers")
    pytest.importorskip("torch")
    info = json.loads((DATA / "hf-api" / "deepseek-ai__DeepSeek-V2-Lite.json").read_text())
    enable_exact_counts()
    with running_hub() as hub, ModelManager() as manager:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.add_model("acme/mla-lite", custom_family_config(), info=info)
        import_hub_model("acme/mla-lite", manager=manager)
        model = manager.get_model("acme/mla-lite")
        assert (model["parameter_count"], model["count_basis"]) == (15706484224, "hub-safetensors")
