"""Files (issue 12): nothing overwrites the catalog, written files appear whole or not at all,
readers never change a file, and doctor survives any damage."""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from reliability_support import LLAMA_31_8B, dump_catalog, write_config_variants

from genz_catalog.admin import TEMP_SUFFIX
from genz_catalog.cli import cli
from genz_catalog.manager import ModelManager

MODEL = "meta-llama/Llama-3.1-8B"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def seeded(isolated_catalog: Path, tmp_path: Path) -> Path:
    with ModelManager(isolated_catalog) as manager:
        manager.import_config_file(LLAMA_31_8B, MODEL)
        for path in write_config_variants(tmp_path / "variants", "seed", 40):
            manager.import_config_file(path)
        manager.add_quality_metric(MODEL, "MMLU", 66.7, 5)
    return isolated_catalog


# ----------------------------------------------------------------------- export and backup


def test_export_refuses_every_spelling_of_the_catalog_and_its_companions(
    seeded: Path, tmp_path: Path
):
    before = dump_catalog(seeded)
    link = tmp_path / "link.jsonl"
    link.symlink_to(seeded)
    for target in (
        seeded,
        link,
        seeded.parent / ".." / seeded.parent.name / seeded.name,
        Path(f"{seeded}-wal"),
        Path(f"{seeded}-shm"),
    ):
        for command in ("export", "backup"):
            args = [command, str(target)] + (["--force"] if command == "backup" else [])
            result = run(*args)
            assert result.exit_code == 1, (target, result.output)
            verb = "export" if command == "export" else "back up"
            assert result.output == (
                f"Error: {target}: refusing to {verb} the catalog onto itself\n"
            )
    assert dump_catalog(seeded) == before
    assert ModelManager(seeded).get_stats()["total_models"] == 41


def test_export_and_backup_leave_no_temporary_and_clean_stale_ones(seeded: Path, tmp_path: Path):
    target = tmp_path / "out.jsonl"
    # What a killed export leaves: a temporary named for a process that is gone.
    stale = tmp_path / f".out.jsonl.999999999.abc{TEMP_SUFFIX}"
    stale.write_text("half an export")
    assert run("export", str(target)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert target.read_text().count("\n") == len(target.read_text().splitlines())
    backup = tmp_path / "copy.db"
    stale_backup = tmp_path / f".copy.db.999999999.xyz{TEMP_SUFFIX}"
    stale_backup.write_bytes(b"\0" * 4096)
    assert run("backup", str(backup)).exit_code == 0
    assert not stale_backup.exists()


def test_doctor_reports_and_fix_removes_stale_temporaries_beside_the_catalog(seeded: Path):
    stale = seeded.parent / f".models-backup.db.999999999.q{TEMP_SUFFIX}"
    stale.write_bytes(b"\0" * 1024)
    checked = run("doctor", "--json")
    assert checked.exit_code == 1
    report = json.loads(checked.stdout)
    assert report["stale_temporaries"] == [str(stale)]
    assert report["problems"] == [
        "1 stale temporary files from an interrupted backup or export (--fix removes them)"
    ]
    fixed = run("doctor", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "and 1 stale temporary file" in fixed.stdout
    assert not stale.exists()


def _limited_run(args: list[str], limit_bytes: int, cwd: Path) -> subprocess.CompletedProcess:
    """Run the CLI in a child whose files cannot grow past ``limit_bytes`` (RLIMIT_FSIZE): a
    full disk, as far as the writes are concerned (Python ignores SIGXFSZ, so write fails)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    # cwd moves: the package must come from this checkout, not a relative PYTHONPATH.
    root = str(Path(__file__).resolve().parents[1])
    python_path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "genz_catalog", *args],
        capture_output=True,
        text=True,
        preexec_fn=limit,  # noqa: PLW1509 - the limit is the point of the test
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": python_path},
        timeout=120,
    )


def test_export_on_a_full_disk_is_one_line_and_leaves_nothing(seeded: Path, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    # 100 kB: room for the catalog's 32 kB WAL index, not for the ~250 kB export.
    done = _limited_run(["--db", str(seeded), "export", str(out / "catalog.jsonl")], 100_000, out)
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: {out / 'catalog.jsonl'}: cannot write: ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert list(out.iterdir()) == []
    backup = _limited_run(["--db", str(seeded), "backup", str(out / "copy.db")], 100_000, out)
    assert backup.returncode == 1 and backup.stderr.count("\n") == 1, backup.stderr
    assert list(out.iterdir()) == []


def test_bulk_import_on_a_full_disk_is_one_line_and_the_file_stays_whole(tmp_path: Path):
    catalog = tmp_path / "bulk.db"
    ModelManager(catalog).close()
    paths = write_config_variants(tmp_path / "configs", "full", 300)
    done = _limited_run(
        ["--db", str(catalog), "import", *map(str, paths)],
        catalog.stat().st_size + 150_000,
        tmp_path,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("Error: "), done.stderr
    with ModelManager(catalog) as manager:
        from genz_catalog.admin import diagnose_catalog

        assert diagnose_catalog(manager.db).healthy


# ------------------------------------------------------------------------------ readers


def test_readers_never_change_a_backup_or_switch_it_to_wal(seeded: Path, tmp_path: Path):
    copy = tmp_path / "published.db"
    assert run("backup", str(copy)).exit_code == 0
    before = sha(copy)
    for args in (
        ["list"],
        ["show", MODEL],
        ["show", MODEL, "--memory"],
        ["search", "llama"],
        ["stats"],
        ["history", MODEL],
        ["metrics", "list"],
        ["doctor"],
        ["export", str(tmp_path / "x.jsonl")],
        ["backup", str(tmp_path / "again.db")],
    ):
        result = run("--db", str(copy), *args)
        assert result.exit_code == 0, (args, result.output)
    assert sha(copy) == before
    assert not Path(f"{copy}-wal").exists()
    conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_a_read_only_file_can_be_read(seeded: Path, tmp_path: Path):
    copy = tmp_path / "ro.db"
    assert run("backup", str(copy)).exit_code == 0
    copy.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        result = run("--db", str(copy), "list", "--json")
        assert result.exit_code == 0, result.output
        assert len(json.loads(result.stdout)) == 41
    finally:
        tmp_path.chmod(0o755)


# ------------------------------------------------------------------------------ doctor


def _damage(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute(sql)
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        (
            "INSERT INTO model_aliases (alias, model_id, kind, created_at) "
            "SELECT 'my-llama', model_id, 'user', 't' FROM models WHERE model_id = "
            "'meta-llama/Llama-3.1-8B'",
            None,  # an alias that is not a model id: fine
        ),
        (
            "UPDATE models SET model_name = CAST(x'ff00fe' AS TEXT) WHERE model_id = "
            "'meta-llama/Llama-3.1-8B'",
            "1 models.model_name values are not valid UTF-8 text (restore from a backup)",
        ),
        (
            "UPDATE documents SET body = '{\"a\": NaN}' WHERE id = (SELECT config_doc "
            "FROM models WHERE model_id = 'meta-llama/Llama-3.1-8B')",
            "1 models.config_json values are not strict JSON (restore from a backup)",
        ),
        (
            "UPDATE documents SET body = '{not json' WHERE id = (SELECT config_doc "
            "FROM models WHERE model_id = 'meta-llama/Llama-3.1-8B')",
            "1 models.config_json values are not strict JSON (restore from a backup)",
        ),
    ],
)
def test_doctor_finds_text_and_json_damage(seeded: Path, sql: str, problem: str | None):
    _damage(seeded, sql)
    result = run("doctor", "--json")
    report = json.loads(result.stdout)
    if problem is None:
        assert result.exit_code == 0 and report["healthy"], report
    else:
        assert result.exit_code == 1
        assert problem in report["problems"], report["problems"]


def test_doctor_finds_a_model_id_shadowed_by_another_models_alias(seeded: Path):
    # What a bad load used to write: a bare model id that is another model's alias (importing
    # "seed-m1" is refused; `delete --hard seed-m1` removed the wrong model).
    _damage(seeded, "UPDATE models SET model_id = 'seed-m1' WHERE model_id = 'seed/seed-m2'")
    result = run("doctor")
    assert result.exit_code == 1
    assert (
        "Problem: model id 'seed-m1' is also an alias of 'seed/seed-m1': the name means two "
        "models (delete the alias or rename one model)\n"
    ) in result.stderr


def test_doctor_finds_figures_a_hand_edited_export_loaded_and_fix_derives_them(
    seeded: Path, tmp_path: Path
):
    from reliability_support import LLAMA_31_8B_PARAMS

    export = tmp_path / "catalog.jsonl"
    assert run("export", str(export)).exit_code == 0
    edited = []
    for line in export.read_text().splitlines():
        entry = json.loads(line)
        row = entry.get("row") or {}
        if row.get("model_id") == MODEL and "parameter_count" in row:
            row["parameter_count"] = row["active_parameter_count"] = 7_000_000_000
            row["num_layers"] = 30
            # The memory document compare and the pages compute KV caches with: 4x the layers.
            memory = json.loads(row["memory_json"])
            true_memory = json.loads(row["memory_json"])
            memory["kv_layers"][0]["count"] = 128
            row["memory_json"] = json.dumps(memory)
            row["parameter_mismatch"] = 1  # no Hub count to mismatch
        edited.append(json.dumps(entry))
    export.write_text("\n".join(edited) + "\n")
    other = tmp_path / "loaded.db"
    assert run("--db", str(other), "load", str(export)).exit_code == 0

    def versions_and_others() -> tuple[list, list]:
        with ModelManager(other) as manager:
            versions = manager.db.execute(
                "SELECT version, config_hash, change_description FROM model_versions "
                "WHERE model_id = ? ORDER BY version",
                [MODEL],
            ).fetchall()
            others = manager.db.execute(
                "SELECT * FROM models WHERE model_id != ? ORDER BY model_id", [MODEL]
            ).fetchall()
        return versions, others

    before = versions_and_others()
    found = run("--db", str(other), "doctor", "--json")
    assert found.exit_code == 1
    report = json.loads(found.stdout)
    assert report["stale_figures"] == [
        [MODEL, "parameter_count", 7_000_000_000, LLAMA_31_8B_PARAMS],
        [MODEL, "active_parameter_count", 7_000_000_000, LLAMA_31_8B_PARAMS],
        [MODEL, "num_layers", 30, 32],
        [MODEL, "parameter_mismatch", 1, 0],
        [MODEL, "memory_json", memory, true_memory],
    ]
    assert report["models_with_stale_figures"] == 1
    assert report["problems"] == [
        f"1 model shows figures their stored config does not give (e.g. {MODEL}: "
        f"parameter_count 7,000,000,000, derived {LLAMA_31_8B_PARAMS:,}; --fix derives them "
        "again)"
    ]
    # A simulation stored from the edited figures (its exact weights are 7B x 2 bytes).
    simulated = run("--db", str(other), "simulate", MODEL, "--system", "H100_GPU", "--json")
    assert simulated.exit_code == 0, simulated.output
    assert json.loads(simulated.stdout)["exact_weight_bytes_total"] == 14_000_000_000
    fixed = run("--db", str(other), "doctor", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "; derived the figures of 1 model again" in fixed.output
    again = run("--db", str(other), "simulate", MODEL, "--system", "H100_GPU", "--json")
    assert json.loads(again.stdout)["cached"] is False
    assert json.loads(again.stdout)["exact_weight_bytes_total"] == LLAMA_31_8B_PARAMS * 2
    with ModelManager(other) as manager:
        model = manager.get_model(MODEL)
        assert (model["parameter_count"], model["num_layers"]) == (LLAMA_31_8B_PARAMS, 32)
        assert (model["parameter_mismatch"], model["memory"]) == (0, true_memory)
    # The fix is an update with the same config: a new version saying why (the loaded one
    # stays in the history), and the other 40 models were left alone.
    versions, others = versions_and_others()
    assert versions == [
        *before[0],
        (2, before[0][0][1], "figures derived again from its stored config (doctor --fix)"),
    ]
    assert others == before[1] and len(others) == 40
    assert json.loads(run("--db", str(other), "doctor", "--json").stdout)["stale_figures"] == []


def test_doctor_never_crashes_on_random_byte_flips(seeded: Path, tmp_path: Path):
    """Damaged copies: doctor answers with findings or one error line, never a traceback, and
    whenever ``list`` fails on a copy, doctor reports a problem too."""
    with ModelManager(seeded) as manager:
        manager.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    original = seeded.read_bytes()
    rng = random.Random(12)
    outcomes = {"healthy": 0, "problems": 0, "error": 0}
    for number in range(40):
        data = bytearray(original)
        for _ in range(rng.choice((1, 3, 10, 40))):
            position = rng.randrange(100, len(data))  # keep the 100-byte header's magic mostly
            data[position] = rng.randrange(256)
        copy = tmp_path / f"flip{number}.db"
        copy.write_bytes(bytes(data))
        listed = run("--db", str(copy), "list", "--json", "--deleted")
        doctor = run("--db", str(copy), "doctor")
        for result in (listed, doctor):
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                number,
                type(result.exception).__name__,
                result.exception,
            )
            assert "Traceback" not in result.output
        assert doctor.exit_code in (0, 1)
        if doctor.exit_code == 0:
            outcomes["healthy"] += 1
            assert listed.exit_code == 0, (number, listed.output)
        elif doctor.stdout:
            outcomes["problems"] += 1
            assert "Problem: " in doctor.stderr
        else:
            outcomes["error"] += 1
            assert doctor.stderr.startswith("Error: ") and doctor.stderr.count("\n") == 1
    # The seed gives a mix, so each branch above really ran.
    assert outcomes["problems"] + outcomes["error"] > 0 and outcomes["healthy"] > 0, outcomes


def test_doctor_json_is_one_object(seeded: Path):
    result = run("doctor", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["healthy"] is True and report["problems"] == []
    assert report["models"] == 41 and report["fts_rows"] == 41
    assert report["integrity"] == ["ok"] and report["journal_mode"] == "wal"
    assert set(report) >= {"orphans", "shadowed_ids", "undecodable_text", "invalid_json"}


def test_copying_the_catalog_file_is_enough_for_doctor(seeded: Path, tmp_path: Path):
    # A plain file copy of a WAL catalog (as a user would make) reads without a -wal file.
    with ModelManager(seeded) as manager:
        manager.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = tmp_path / "copy.db"
    shutil.copy(seeded, copy)
    assert run("--db", str(copy), "doctor").exit_code == 0


def test_doctor_fix_refuses_an_empty_file_instead_of_making_it_a_catalog(tmp_path: Path):
    empty = tmp_path / "empty.db"
    empty.touch()
    # Every command that needs an existing catalog refuses it alike (get_manager).
    for args in (["doctor"], ["doctor", "--fix"], ["delete", "x"], ["clear-cache", "--expired"]):
        result = run("--db", str(empty), *args)
        assert (result.exit_code, result.stderr) == (
            1,
            f"Error: {empty} holds no catalog yet (an empty SQLite file)\n",
        )
    assert empty.stat().st_size == 0
