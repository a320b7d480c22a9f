"""Emotion dynamics component."""

from components.emotion_dynamics.component import EmotionDynamics, EmotionDynamicsArgs, polly_statement

__all__ = ["EmotionDynamics", "EmotionDynamicsArgs", "polly_statement"]
