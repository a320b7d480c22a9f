"""Translation pipeline: translate a transcribed segment per listener language, voice it, broadcast it.

Entry point: ``translation_pipeline.handler.lambda_handler`` (async invoke from the stream worker).
"""
