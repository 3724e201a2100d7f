"""`facevault bench vault` runs end to end on a small size and reports sane numbers."""

from __future__ import annotations

import json
from pathlib import Path

from facevault.cli.main import main


def test_bench_vault_small(tmp_path: Path, capsys) -> None:
    out = tmp_path / "v.json"
    assert main(["bench", "vault", "--size-mib", "4", "--repeats", "1", "--far", "1e-4",
                 "--workdir", str(tmp_path), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "unlock" in text and "raw ChaCha20-Poly1305" in text and "default" in text
    data = json.loads(out.read_text())
    t = data["throughput"]
    assert t["add_mib_s"] > 0 and t["get_mib_s"] > 0 and t["peak_rss_mib"] > 0
    assert 0 < data["unlock"]["median_seconds"] < data["kdf"]["median_seconds"]  # a face slot: no Argon2id
    default = next(p for p in data["presets"] if p["name"] == "default")
    assert abs(default["bits"] - 84.6) < 0.1
    assert default["dictionary"]["0.0001"] == default["kdf_seconds"] / 1e-4
    assert [p for p in tmp_path.iterdir() if p.name.startswith("fv-bench-")] == []


def test_bench_sync_small(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.json"
    assert main(["bench", "sync", "--entries", "50", "--entries", "200", "--records", "20", "--repeats", "1",
                 "--workdir", str(tmp_path), "--json", str(out)]) == 0
    assert "beyond KDF" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert [p["entries"] for p in data["open"]] == [50, 200]
    assert all(p["open_ms"] > p["unlock_ms"] > 0 and p["peak_rss_mib"] > 10 for p in data["open"])
