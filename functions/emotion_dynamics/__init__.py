"""Emotion dynamics: how loud and how fast the speaker speaks, carried into Polly SSML.

Public interface reused by other packages (translation pipeline, audio stream worker):
``dynamics.DynamicsThresholds``, ``dynamics.analyze_dynamics``, ``dynamics.Dynamics``,
``ssml.build_ssml`` and ``synthesis.PollySynthesizer``. Everything on the analysis path is
numpy only (no librosa, scipy or numba) so it fits a small layer and imports fast.
"""
