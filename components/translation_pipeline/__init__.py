"""Translation pipeline component."""

from components.translation_pipeline.component import TranslationPipeline, TranslationPipelineArgs

__all__ = ["TranslationPipeline", "TranslationPipelineArgs"]
