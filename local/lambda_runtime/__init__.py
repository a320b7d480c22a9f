"""The local Lambda runtime: function containers (one subprocess each) and the code that runs inside them.

``bootstrap.py``, ``wire.py`` and ``transcribe_client.py`` run inside a container, next to the
function's own code, so they use the standard library only (plus what the function's code brings).
"""
