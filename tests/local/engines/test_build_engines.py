"""build_engines: both kinds build, serve, and close stops the persistent processes."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from local.engines import build_engines
from tests.local.engines.server import boto3_client, serving


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="real, scripted"):
        build_engines("fake")  # type: ignore[arg-type]


def test_scripted_engines_serve_and_transcribe():
    engines = build_engines("scripted")
    try:
        with serving(engines.translate_app, "/aws/translate") as url:
            assert boto3_client("translate", url).translate_text(
                Text="Hi.", SourceLanguageCode="en", TargetLanguageCode="fr")["TranslatedText"] == "[fr] Hi."
        stream = asyncio.run(engines.transcribe_factory.start("en-US", 16000, "high"))
        assert stream is not None
    finally:
        engines.close()


@pytest.mark.skipif(shutil.which("apertium-wblank-mode") is None or shutil.which("espeak-ng") is None,
                    reason="needs apertium and espeak-ng (apt)")
def test_real_engines_close_stops_apertium():
    pytest.importorskip("pocketsphinx")
    engines = build_engines("real")
    try:
        with serving(engines.translate_app, "/aws/translate") as url:
            boto3_client("translate", url).translate_text(Text="Good morning.", SourceLanguageCode="en",
                                                          TargetLanguageCode="es")
        translator = engines._closers[0].__self__
        processes = [p._process for p in translator._pipelines.values()]
        assert processes and all(p.poll() is None for p in processes)
    finally:
        engines.close()
    assert all(p.poll() is not None for p in processes)
    engines.close()  # idempotent
