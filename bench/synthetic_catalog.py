"""Config files for the benchmarks, and catalogs built from them through the library's write path.

Shared by ``bench/import.py``, ``bench/serve.py`` and ``bench/lookup.py``. Every catalog a
benchmark times is built with :func:`genz_catalog.admin.import_config_files` (workers convert,
``ModelManager.add_models`` writes): never with raw ``INSERT INTO models``, so the benchmarks
keep measuring whatever the file's schema is.

Two ways configs repeat (``repetition``):

``unique``
    No two configs alike: variants of the real configs in ``tests/data/hf-configs`` with
    ``num_hidden_layers`` varied where the family allows it, each with its own
    ``_name_or_path`` (which becomes its id), written as loose ``N.json`` files.

``hub`` (the Hub's shape; the default)
    Most Hub models are fine-tunes, and a fine-tune's ``config.json`` is its base model's,
    byte for byte, or nearly: training does not change the architecture, and
    ``transformers`` writes the config back without ``_name_or_path``
    (``PretrainedConfig.to_diff_dict`` deletes it). What differs is what the trainer's
    environment stamps in: ``torch_dtype`` (the precision it saved in) and
    ``transformers_version``; older ``transformers`` releases also kept ``_name_or_path``,
    usually the trainer's local checkpoint folder. The model here:

    - ``models // BASE_SHARE`` distinct base configs (5%: real configs x layer counts x
      vocabulary sizes), each a model of its own;
    - every other model is a fine-tune of one base, picked with a Zipf law of exponent 1 (base
      of rank r gets a share proportional to 1/r: a few bases such as Llama-3-8B or
      Qwen2.5-7B carry tens of thousands of fine-tunes, most bases a handful), the way the
      Hub's model tree counts fine-tunes per base;
    - a fine-tune's config is its base's byte for byte (50%), or differs only in
      ``torch_dtype`` (20%), only in ``transformers_version`` (20%), or only in a
      ``_name_or_path`` naming a local checkpoint folder of its own (10%, so unique).

    Each model is a folder ``NNNN/org__name/config.json`` (its id comes from the folder, as for
    a downloaded repo); identical configs are hard links to one file, so a million models take
    a few thousand distinct files and ~4 GB of folder entries, not a million files.

Names are the Hub's shape too (:func:`account`, :class:`Names`): an account picked with a Zipf
law among :data:`ACCOUNTS` made-up user names, the base's name, and for a fine-tune one or two
of the words fine-tunes add (``lora``, ``gguf``, ``dpo``, ``ko``...), numbered only when the
account already has a model of that name. No word is in most names, as on the Hub. (Names
used to be ``bench-ft-N/<base>-bK-ftI``: ``bench`` in every name and a word ``ftI`` of each
model's own, so a two-word search with ``bench`` or the prefix ``ft`` ranked nearly every
model, a search no Hub-like catalog is asked.)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "tests" / "data" / "hf-configs"
FILES_PER_FOLDER = 1000
#: One model in this many is a distinct base config (hub repetition).
BASE_SHARE = 20
#: What a fine-tune's config differs in (hub repetition): (kind, share in percent).
FINE_TUNE_KINDS = (("identical", 50), ("torch_dtype", 20), ("transformers_version", 20))
#: The remaining share: ``_name_or_path`` is the trainer's own checkpoint folder (unique).
TRANSFORMERS_VERSIONS = ("4.38.2", "4.40.1", "4.43.3", "4.45.2", "4.46.3", "4.51.3")
DTYPES = ("bfloat16", "float16", "float32")
REPETITIONS = ("hub", "unique")
MARKER = ".generated.json"
#: The naming of the generated models (3: Hub-like accounts and words, :class:`Names`).
NAMES = 3


@dataclass
class Generated:
    """What :func:`ensure_generated` wrote (or found): counts of models and distinct files."""

    models: int
    repetition: str
    real_configs: int
    distinct_configs: int
    seconds: float
    #: How models are named (:data:`NAMES`); a folder named another way is generated again.
    names: int = 1


def real_bases() -> list[tuple[str, dict, list[int | None]]]:
    """(name, config, usable layer counts) of every real config the converter accepts."""
    from genz_catalog.convert import ConversionError, convert_hf_config

    bases: list[tuple[str, dict, list[int | None]]] = []
    for path in sorted(CONFIGS.glob("*/config.json")):
        config = json.loads(path.read_text())
        try:
            convert_hf_config(config, "bench/probe")
        except ConversionError:
            continue
        layers: list[int | None] = [None]
        original = config.get("num_hidden_layers")
        if isinstance(original, int):
            for n in range(1, 2 * original + 1):
                if n == original:
                    continue
                try:
                    convert_hf_config({**config, "num_hidden_layers": n}, "bench/probe")
                except ConversionError:
                    continue
                layers.append(n)
        bases.append((path.parent.name.replace("__", "-"), config, layers))
    return bases


def _vocab_steps_ok(config: dict) -> bool:
    from genz_catalog.convert import ConversionError, convert_hf_config

    vocab = config.get("vocab_size")
    if not isinstance(vocab, int) or isinstance(vocab, bool):
        return False
    try:
        convert_hf_config({**config, "vocab_size": vocab + 64}, "bench/probe")
    except ConversionError:
        return False
    return True


def _write_json(path: Path, config: dict) -> None:
    path.write_text(json.dumps(config, indent=2))


def generate_unique(folder: Path, count: int, bases: list) -> int:
    """``count`` configs, no two alike, as loose ``NNNN/i.json`` files; returns how many
    distinct files were written (all of them)."""
    names = Names()
    for i in range(count):
        name, config, layers = bases[i % len(bases)]
        variant = dict(config)
        depth = layers[(i // len(bases)) % len(layers)]
        if depth is not None:
            variant["num_hidden_layers"] = depth
        variant["_name_or_path"] = names(i, name, fine_tune=i >= len(bases))
        sub = folder / f"{i // FILES_PER_FOLDER:04d}"
        if i % FILES_PER_FOLDER == 0:
            sub.mkdir(parents=True, exist_ok=True)
        _write_json(sub / f"{i}.json", variant)
    return count


#: Syllables of the made-up account names (:func:`account`).
_SYLLABLES = (
    "ka", "ro", "mi", "ta", "ne", "lo", "vu", "si", "da", "pe", "zo", "hi", "gu", "fa",
    "be", "ny", "xu", "we", "jo", "qi", "ar", "el", "on", "is", "ul", "tr", "sh", "ch",
)  # fmt: skip
#: Accounts the models are spread over (Zipf: a few publish tens of thousands, most a handful).
ACCOUNTS = 200_000
#: Words fine-tunes add to their base's name on the Hub: method, format, quantisation, task,
#: language.
SUFFIXES = (
    "lora", "qlora", "sft", "dpo", "orpo", "gguf", "awq", "gptq", "exl2", "mlx", "4bit",
    "8bit", "merged", "finetuned", "chat", "instruct", "uncensored", "rp", "math", "code",
    "medical", "legal", "distilled", "ko", "ja", "zh", "de", "fr", "v2", "v0.1",
)  # fmt: skip


def account(rank: int) -> str:
    """The made-up name of the account of Zipf rank ``rank``: two to four syllables, a third
    of them followed by digits (``karomi``, ``zohi417``); different ranks may share a name."""
    m = _mix(rank + 5_000_000_000)
    syllables = 2 + m % 3
    name = "".join(_SYLLABLES[(m >> (2 + 5 * j)) % len(_SYLLABLES)] for j in range(syllables))
    return name + str(rank % 1000) if (m >> 22) % 3 == 0 else name


class Names:
    """Hub-like model ids, each given once: an account (Zipf over :data:`ACCOUNTS`), the
    model's name, and ``-N`` when the account already has a model of that name."""

    def __init__(self) -> None:
        self._given: dict[str, int] = {}

    def __call__(self, seed: int, name: str, fine_tune: bool) -> str:
        """The id (``org/name``) of model ``seed`` named ``name``, with one or two
        :data:`SUFFIXES` words added for a fine-tune."""
        if fine_tune:
            m = _mix(seed + 7_000_000_000)
            name += "-" + SUFFIXES[m % len(SUFFIXES)]
            if (m >> 8) % 4 == 0:
                name += "-" + SUFFIXES[(m >> 12) % len(SUFFIXES)]
        model_id = f"{account(zipf_rank(seed + 3_000_000_000, ACCOUNTS))}/{name}"
        # Ids are one model whatever their case (``...-3B-instruct-merged``, a base's
        # ``instruct`` suffix, is ``...-3B-Instruct-merged``).
        key = model_id.lower()
        seen = self._given.get(key, 0) + 1
        self._given[key] = seen
        return model_id if seen == 1 else f"{model_id}-{seen}"


def _mix(i: int) -> int:
    """A well-spread number in [0, 2**32) for model ``i`` (the same on every run)."""
    return int.from_bytes(
        hashlib.blake2b(i.to_bytes(8, "little"), digest_size=4).digest(), "little"
    )


def zipf_rank(i: int, bases: int) -> int:
    """The base (0-based rank) fine-tune ``i`` derives from: rank r has probability
    proportional to 1/(r+1) (inverse of the continuous Zipf CDF, ln(r+1) / ln(bases+1))."""
    u = _mix(i) / 2**32
    return min(bases - 1, int((bases + 1) ** u) - 1)


def generate_hub(folder: Path, count: int, real: list) -> int:
    """``count`` models in ``NNNN/org__name/config.json`` folders with Hub-like repetition (see
    the module docstring); returns the number of distinct config files written."""
    blobs = folder / ".blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    vocab_ok = [_vocab_steps_ok(config) for _, config, _ in real]
    n_bases = max(1, count // BASE_SHARE)

    def base_config(k: int) -> tuple[str, dict]:
        index = k % len(real)
        name, config, layers = real[index]
        j = k // len(real)
        variant = {key: value for key, value in config.items() if key != "_name_or_path"}
        depth = layers[j % len(layers)]
        if depth is not None:
            variant["num_hidden_layers"] = depth
        step = j // len(layers)
        if step and vocab_ok[index]:
            variant["vocab_size"] = config["vocab_size"] + 64 * step
        # A variant of a real config is named as a new version of the model would be.
        return (name if j == 0 else f"{name}-v{j}"), variant

    written: dict[tuple, Path] = {}
    distinct = 0

    def blob(key: tuple, config: dict) -> Path:
        nonlocal distinct
        path = written.get(key)
        if path is None:
            path = blobs / f"{len(written)}.json"
            _write_json(path, config)
            written[key] = path
            distinct += 1
        return path

    names = Names()
    base_cache: dict[int, tuple[str, dict]] = {}
    for i in range(count):
        sub = folder / f"{i // FILES_PER_FOLDER:04d}"
        if i % FILES_PER_FOLDER == 0:
            sub.mkdir(parents=True, exist_ok=True)
        if i < n_bases:
            k, kind = i, "base"
        else:
            k = zipf_rank(i, n_bases)
            pick = _mix(i + 7_919_000_000) % 100
            kind = "name_or_path"
            for name, share in FINE_TUNE_KINDS:
                if pick < share:
                    kind = name
                    break
                pick -= share
        if k not in base_cache:
            base_cache[k] = base_config(k)
        base_name, config = base_cache[k]
        model_folder = sub / names(i, base_name, fine_tune=kind != "base").replace("/", "__")
        model_folder.mkdir()
        target = model_folder / "config.json"
        if kind in ("base", "identical"):
            os.link(blob((k,), config), target)
        elif kind == "torch_dtype":
            current = config.get("torch_dtype", "bfloat16")
            others = [d for d in DTYPES if d != current]
            dtype = others[_mix(i) % len(others)]
            os.link(blob((k, dtype), {**config, "torch_dtype": dtype}), target)
        elif kind == "transformers_version":
            version = TRANSFORMERS_VERSIONS[_mix(i) % len(TRANSFORMERS_VERSIONS)]
            os.link(blob((k, version), {**config, "transformers_version": version}), target)
        else:
            _write_json(target, {**config, "_name_or_path": f"/scratch/run-{i}/checkpoint-500"})
            distinct += 1
    return distinct


def ensure_generated(folder: Path, models: int, repetition: str) -> Generated:
    """Generate ``models`` config files in ``folder`` unless a complete set with the same
    parameters is already there (``--keep``); returns what the folder holds."""
    marker = folder / MARKER
    if marker.exists():
        found = Generated(**json.loads(marker.read_text()))
        if found.models == models and found.repetition == repetition and found.names == NAMES:
            return found
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    began = time.perf_counter()
    real = real_bases()
    if repetition == "hub":
        distinct = generate_hub(folder, models, real)
    else:
        distinct = generate_unique(folder, models, real)
    generated = Generated(
        models, repetition, len(real), distinct, time.perf_counter() - began, NAMES
    )
    marker.write_text(json.dumps(asdict(generated)))
    return generated


def config_files(folder: Path) -> Iterator[str]:
    """Every generated file, in a stable order, without listing them all at once."""
    subs = sorted(e.path for e in os.scandir(folder) if e.is_dir() and e.name[0] != ".")
    for sub in subs:
        for name in sorted(entry.name for entry in os.scandir(sub)):
            if name.endswith(".json"):
                yield os.path.join(sub, name)
            else:
                yield os.path.join(sub, name, "config.json")


def drop_from_page_cache(paths: Iterable[str | Path]) -> None:
    """Ask the kernel to forget the cached pages of each file of ``paths`` (``posix_fadvise``
    DONTNEED: no privileges needed; clean pages only, so dirty ones must be written back
    first), so the next read of them goes to the disk."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def build_catalog(
    db_path: Path, folder: Path, *, workers: int = 1, batch_size: int = 2000
) -> tuple[int, list]:
    """Import every config of ``folder`` into ``db_path`` through the library's bulk write path
    (:func:`genz_catalog.admin.import_config_files`); returns (models written, failures)."""
    from genz_catalog.admin import import_config_files
    from genz_catalog.manager import ModelManager

    with ModelManager(db_path) as manager:
        result = import_config_files(
            manager,
            config_files(folder),
            if_exists="update",
            batch_size=batch_size,
            workers=workers,
        )
    return sum(result.counts.values()), result.failures


def checkpoint(db_path: Path) -> None:
    """Fold the WAL into the file and truncate it, so the file's size is the catalog's."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def catalog_bytes(db_path: Path) -> int:
    """Bytes of the catalog file plus its WAL (if any)."""
    wal = Path(f"{db_path}-wal")
    return db_path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
