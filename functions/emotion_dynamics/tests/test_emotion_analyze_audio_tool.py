"""tools/analyze_audio.py on a generated wav file."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("librosa")
sf = pytest.importorskip("soundfile")

TOOL = Path(__file__).resolve().parents[3] / "tools" / "analyze_audio.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("emotion_analyze_audio_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def wav(tmp_path, train) -> Path:
    # 3 s of speech-like sound, 3 s of silence, 3 s louder; written at 44.1 kHz stereo so
    # the tool has to resample and downmix.
    rate = 44100
    speech = train(4.0, 3.0, level=0.1, sample_rate=rate)
    loud = train(6.0, 3.0, level=0.9, sample_rate=rate)
    mono = np.concatenate([speech, np.zeros(3 * rate, np.float32), loud])
    path = tmp_path / "sample.wav"
    sf.write(str(path), np.stack([mono, mono], axis=1), rate, subtype="PCM_16")
    return path


def test_table_and_summary(tool, wav, capsys):
    assert tool.main([str(wav), "--window", "3"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if " - " in line and "dBFS" not in line]
    assert len(rows) == 3
    assert "silent" in rows[1] and "unknown" in rows[1]
    assert "silent" not in rows[0] and "silent" not in rows[2]
    assert "pulumi config set emotion:volumeLoudDb -10" in out
    assert "rate wpm" in out and "active level dBFS" in out


def test_json_output_and_threshold_options(tool, wav, capsys):
    assert tool.main([str(wav), "--json", "--window", "3", "--loud", "-40", "--medium", "-50", "--soft", "-60"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [w["volume"]["level"] for w in data["windows"]] == ["loud", "silent", "loud"]
    assert data["windows"][2]["volume"]["dbfs"] > data["windows"][0]["volume"]["dbfs"] + 15
    assert data["windows"][2]["rate"]["wpm"] > data["windows"][0]["rate"]["wpm"]
    assert data["summary"]["speech_windows"] == 2


def test_hop_gives_overlapping_windows(tool, wav, capsys):
    assert tool.main([str(wav), "--json", "--window", "3", "--hop", "1.5"]) == 0
    starts = [w["start"] for w in json.loads(capsys.readouterr().out)["windows"]]
    assert starts[:3] == [0.0, 1.5, 3.0]


def test_errors(tool, tmp_path, wav, capsys):
    assert tool.main([str(tmp_path / "missing.wav")]) == 1
    assert tool.main([str(wav), "--loud", "-40"]) == 2  # loud below medium
    assert tool.main([str(wav), "--window", "0"]) == 2
    assert "error" in capsys.readouterr().err
